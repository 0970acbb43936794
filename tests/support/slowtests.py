"""The tests left out of the fast subset (`pytest -m "not slow"`), by measurement.

Measured with `nice -n 10 pytest --durations=0` on the project's 2-core machine while six other
engineers worked on it (load average 2–7; seconds are setup + call + teardown, summed over a
test's parameters). The rule, chosen so the fast subset fits 3 minutes on 2 cores: a test is slow
at ≥ 2 s; a module is slow when a fixture it shares costs ≥ 5 s (listing its first test alone would
charge that fixture to the next one). The whole suite measured 579 s of test time: the rest, the
fast subset, 95 s. Re-measure when you add a test that trains, refreshes or drives a browser
(docs/contributing.md); a name listed here that no longer exists marks nothing.
"""
from __future__ import annotations

SLOW_MODULES: frozenset[str] = frozenset({
    "test_classify_transfer.py",  # 106 s; its costliest shared fixture 79 s
    "test_classify_vggface_training.py",  # 54 s; its costliest shared fixture 30 s
    "test_demo.py",  # 31 s; its costliest shared fixture 24 s
    "test_fault_malformed.py",  # 27 s; its costliest shared fixture 27 s
    "test_home_stages.py",  # 16 s; its costliest shared fixture 6 s
    "test_classify_vggface.py",  # 10 s; its costliest shared fixture 6 s
    "test_notebook_home.py",  # 10 s; its costliest shared fixture 5 s
    "test_report_methods.py",  # 21 s; its costliest shared fixture 16 s (load average 6)
    "test_face_status_wpa.py",  # 9 s; its costliest shared fixture 9 s
    "test_faces_purge_descriptors.py",  # 16 s; its costliest shared fixture 12 s (a refresh)
})

SLOW_TESTS: frozenset[str] = frozenset({
    "test_fault_kill.py::test_refresh_killed_ten_times_then_rerun_equals_an_uninterrupted_refresh",  # 36.3 s
    "test_fault_concurrency.py::test_the_dashboard_keeps_answering_while_a_refresh_writes",  # 22.6 s
    # 9.9 s
    "test_refresh_standing.py::test_refreshes_meeting_only_the_missing_files_the_harvest_met_exit_0_and_redo_nothing",
    "test_dashboards.py::test_app_states_the_base_and_says_when_nothing_was_scanned",  # 9.7 s
    "test_refresh_dask.py::test_refresh_on_a_dask_cluster_finds_the_faces_a_local_refresh_finds",  # 8.8 s
    "test_dashboards.py::test_app_filters_update_figures_and_a_click_shows_the_posters",  # 7.4 s
    "test_dashboards_compare.py::test_the_compare_panel_answers_a_selection",  # 6.6 s (browser)
    "test_dashboards.py::test_page_renders_every_figure_in_chromium",  # 6.0 s
    "test_dashboards_drilldown.py::test_in_the_browser_the_box_sits_on_the_face_of_the_upright_image",  # 5.8 s
    "test_text_cli.py::test_phrases_on_the_wpa_export",  # 5.0 s
    "test_cli_iiif.py::test_real_institution_collection_with_missing_members",  # 4.8 s
    "test_dashboards.py::test_a_demo_page_keeps_its_banner_in_view_and_marks_every_figure",  # 4.6 s
    "test_classify_cli.py::test_train_from_catalog_uses_the_labelled_faces_and_leaves_out_other",  # 4.6 s
    "test_faces_dask.py::test_detect_on_a_dask_cluster_matches_the_local_pool",  # 4.3 s
    "test_faces_cli.py::test_faces_stored_before_schema_6_are_marked_aligned_by_dlib68",  # 4.1 s
    "test_faces_cli.py::test_unreachable_scheduler_is_a_clear_error",  # 4.1 s
    "test_faces_cli.py::test_process_pool_finds_the_same_faces_as_one_process",  # 4.0 s
    "test_notebook_standalone.py::test_evaluation_report_is_the_report_classify_evaluate_writes",  # 3.9 s
    "test_classify_domains.py::test_evaluate_uses_the_asked_domains_calibration_and_reports_recall_per_label",  # 3.9 s
    "test_faces_descriptor_net.py::test_numpy_network_gives_dlibs_descriptors_on_paintings",  # 3.8 s
    "test_faces_detectors.py::test_tiled_finds_the_same_faces_as_untiled_in_original_coordinates",  # 3.7 s
    "test_notebook_standalone.py::test_perceived_gender_gives_what_classify_predict_stores_for_the_image",  # 3.7 s
    "test_refresh_standing.py::test_a_newly_missing_file_exits_2_once_then_stands",  # 3.6 s
    # 3.5 s
    "test_dashboards_citable.py::test_in_chromium_years_and_counts_read_as_whole_numbers_and_empty_categories_say_0",
    "test_refresh.py::test_refresh_runs_every_stage_and_writes_export_and_dashboard",  # 3.4 s
    "test_refresh.py::test_a_failing_stage_skips_what_depends_on_it_and_the_next_refresh_completes",  # 3.4 s
    "test_source_commands.py::test_a_broken_source_registered_before_can_be_removed_and_refresh_then_succeeds",  # 3.2 s
    "test_dashboards_citable.py::test_the_page_ends_with_the_footer_and_a_screenshot_of_it_reads",  # 3.0 s
    "test_classify_prevalence.py::test_small_group_coverage_on_a_reduced_grid",  # 3.0 s
    "test_dashboards.py::test_every_axis_of_every_panel_has_a_title_and_categories_have_human_names",  # 2.8 s
    "test_text_cli.py::test_extract_is_incremental_and_follows_the_config",  # 2.7 s
    "test_classify_cli.py::test_train_writes_the_model_folder_and_says_where",  # 2.7 s
    "test_faces_cli.py::test_second_identical_run_does_nothing_and_other_settings_add_a_second_result_set",  # 2.6 s
    "test_faces_align_embed.py::test_described_faces_have_landmarks_embedding_and_a_224_crop",  # 2.6 s
    "test_namespace.py::test_the_wheel_installs_one_top_level_name",  # 2.6 s
    "test_cli_oai.py::test_a_record_deleted_at_the_source_is_marked_deleted",  # 2.5 s
    "test_fault_oai.py::test_repeated_harvests_through_a_flaky_server_store_every_record_once",  # 2.5 s
    "test_dashboards.py::test_the_app_of_a_demo_home_shows_the_banner_and_a_real_one_does_not",  # 2.5 s
    "test_classify_crop_faces.py::test_evaluate_prints_and_stores_how_the_faces_were_found",  # 2.4 s
    "test_cli_help.py::test_help_shows_no_type_artefacts",  # 2.4 s
    "test_analysis_plain_equivalence.py::test_period_tables_are_the_plain_grouping_of_the_faces",  # 2.1 s
    "test_harvest_csv.py::test_rerunning_the_wpa_harvest_adds_nothing",  # 2.1 s
    "test_classify_training.py::test_training_separates_the_clusters_on_held_out_posters",  # 2.1 s
    "test_classify_label.py::test_labelling_page_in_chromium",  # 2.0 s
    "test_faces_cli.py::test_upsample_zero_is_its_own_result_set",  # 2.0 s
})
