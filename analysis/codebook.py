"""What every column of every exported CSV means, kept in code so the export can refuse an
undocumented column instead of publishing a table nobody can read correctly."""
from __future__ import annotations

from collections.abc import Mapping

SHARES = {
    "label": "The model's label (e.g. female, male), or `uncertain`: faces whose top probability is below the "
             "min_probability threshold (only present when a threshold is set).",
    "faces": "Faces decided as this label (faces a person labelled `other`, i.e. not a face, are left out).",
    "raw_share": "faces ÷ all decided faces of the row's group (uncertain ones included): classify-and-count, "
                 "biased by the classifier's errors. Empty when the group has no faces.",
    "corrected_share": "Share of the label among the group's faces corrected for the classifier's known errors "
                       "(Rogan–Gladen / constrained least squares on the held-out confusion matrix at the same "
                       "threshold; when the model card calibrates per domain, that of the declared domain: "
                       "posters, paintings or photos, named above and in provenance.json). Sums to 1 over the "
                       "labels. Empty for `uncertain` and for groups without faces.",
    "ci_low": "Lower bound of the 95 % interval of corrected_share (labelled-set and sampling error; each bound "
              "bootstrapped with one face leaning its way, so a group of one face is not certain: the "
              "manual's Methodology: classify page, docs/methodology-classify.md).",
    "ci_high": "Upper bound of the 95 % interval of corrected_share.",
    "model_id": "The classifier whose predictions were counted (its version and evaluation: provenance.json).",
}
PERIOD = {
    "items": "Items (posters) in the group after filters; 0 for a year without items, whose shares are empty "
             "(no data), never 0.",
    "items_scanned": "Items of the group with a scanned image (face_status scanned in items.csv): the only items "
                     "whose faces are counted; items − items_scanned have no image, none scanned yet, or only "
                     "unreadable ones.",
    "items_with_faces": "Items of the group with at least one counted face (of items_scanned).",
}
YEAR = {"year": "Year of the item's date as parsed from the source.",
        "decade": "First year of the decade (1930 = 1930–1939)."}

COLUMNS: dict[str, dict[str, str]] = {
    "items.csv": {
        "item_id": "The catalogue's item id (join key of every other file).",
        "source": "Key of the source the item was harvested from (URLs/locations: provenance.json).",
        "source_item_id": "The item's identifier at its source.",
        "title": "Title as the source gives it.",
        "creator": "Creator(s) as the source gives them (artist, designer, issuing agency; empty: none given).",
        "date": "Date as the source gives it (free text; see year).",
        **YEAR,
        "description": "Description as the source gives it (the text the mentions are found in; empty: none given).",
        "keywords": "Normalised keywords (synonym map applied), joined with \"; \".",
        "rights": "Rights statement as the source gives it (what a reuse of the image must respect; empty: none "
                  "given).",
        "landing_url": "The item's page at its source.",
        "image_path": "Path of its first stored image, relative to the postercensus home (empty: no image).",
        "face_status": "Whether its faces were looked for, in the face set of provenance.json: scanned (at least "
                       "one stored image scanned), no_image (no stored image), not_scanned (images stored, none "
                       "scanned yet), failed (every stored image failed to decode). Only scanned items enter face "
                       "counts and shares; an item that is not scanned is not an item without faces.",
    },
    "faces.csv": {
        "face_row": "Key of the row, unique in the file: \"<item_id>-<face_id>\". Join on it (or on item_id and "
                    "face_id together), not on face_id alone.",
        "face_id": "The catalogue's face id. Not unique in this file: faces are stored per image content, so two "
                   "items whose images have identical bytes show the same face_id, one row each.",
        "item_id": "Item showing the face (identical image bytes in two items give the face to both).",
        "image_path": "Image the box refers to, relative to the postercensus home.",
        "image_width": "Width in pixels of that image upright (EXIF rotation applied), as the face detector saw it: "
                       "the frame of the box.",
        "image_height": "Height in pixels of that image upright.",
        "left": "Box left edge, pixels of the upright image.", "top": "Box top edge, pixels of the upright image.",
        "right": "Box right edge, pixels.", "bottom": "Box bottom edge, pixels.",
        "area_share": "Box area ÷ image area (the box as stored, in the upright image): how much of the poster the "
                      "face fills. Empty where the scan stored no image size.",
        "prominence_rank": "1 for the largest face of its item (by area_share, by pixel area where the item has "
                           "no image size), 2 for the next; ties go to the face higher up, then further left, "
                           "then the lower face_id. Every face of the item is ranked, predicted or not.",
        "centrality": "Distance of the box centre from the image centre in half-widths and half-heights, ÷ √2: 0 at "
                      "the centre, 1 at a corner. Empty where the scan stored no image size.",
        "parameter_hash": "Face set (detector settings; provenance.json) the face was found with.",
        "model_id": "Classifier that predicted the face (empty: not predicted yet).",
        "model_version": "Version of that classifier.",
        "label": "Decision counted in the tables: top_label, or `uncertain` below min_probability.",
        "top_label": "The classifier's most probable label.",
        "probability": "Probability of top_label.",
        "margin": "top_label's probability minus the second label's.",
        "human_label": "A person's label for the face, if any (faces labelled `other` are left out of this file).",
    },
    "mentions.csv": {
        "item_id": "Item whose description holds the mention.",
        "gender": "Gender of the lexicon trigger (female, male).",
        "trigger": "The gendered word as written (e.g. woman, his).",
        "role": "The role or noun it qualifies, as written (empty when none was found).",
        "role_lemma": "Lemma of the role.",
        "category": "Category of the role (e.g. industry, agriculture, military, police; empty when uncategorised).",
        "sentence": "The sentence of the cleaned description holding the mention.",
        "in_title": "True when inside a quoted title of a work: such mentions are left out of every table.",
        "version_hash": "Text pipeline version (lexicon, model, categories) that found it.",
    },
    "by_gender.csv": SHARES,
    "composition.csv": {
        "composition": "Items with a scanned image: no_face; only_<label> (faces show one label; uncertain faces "
                       "beside it allowed); mixed (two or more labels); only_uncertain (faces, none decided). Then "
                       "the items without one, by face_status: not_scanned, failed, no_image.",
        "items": "Items of this composition.",
        "share": "items ÷ items after filters with a scanned image; empty for not_scanned, failed and no_image, "
                 "which are in no share.",
    },
    "by_year.csv": {**YEAR, **PERIOD, **SHARES},
    "by_decade.csv": {"decade": YEAR["decade"], **PERIOD, **SHARES},
    "by_keyword.csv": {
        "keyword": "One of the top keywords by items.",
        **PERIOD, **SHARES,
        "ratio": "The keyword's corrected_share ÷ the whole filtered collection's (1: as common as overall).",
        "ratio_low": "Lower bound of the 95 % interval of ratio: percentile of bootstrap replicates sharing the "
                     "classifier-error draws between keyword and collection.",
        "ratio_high": "Upper bound of that interval. ratio_low/ratio_high/ratio are empty when the whole collection's "
                      "corrected_share is 0 (a ratio to zero is undefined); ratio_high alone is empty when that "
                      "share's own interval reaches 0 (the ratio is then unbounded above).",
    },
    "mentions_by_gender.csv": {"gender": "Gender of the mentions.", "mentions": "Mentions outside titles.",
                               "items": "Items with at least one such mention."},
    "mentions_by_role.csv": {"gender": "Gender of the mentions.", "role_lemma": "Role lemma (empty: none found).",
                             "category": "Category of the role (empty: uncategorised).",
                             "mentions": "Mentions outside titles."},
    "mentions_by_year.csv": {"year": YEAR["year"], "gender": "Gender of the mentions.",
                             "mentions": "Mentions outside titles; empty for a year without items (no data)."},
    "mentions_by_keyword.csv": {"keyword": "One of the top keywords by items.", "gender": "Gender of the mentions.",
                                "mentions": "Mentions outside titles in items with the keyword."},
    "agreement.csv": {
        "item_id": "Item with counted faces or mentions.",
        "text_female": "Female mentions outside titles.", "text_male": "Male mentions outside titles.",
        "faces_female": "Faces decided female (empty: the item has no scanned image).",
        "faces_male": "Faces decided male (empty: the item has no scanned image).",
        "agreement": "Which genders each source shows (≥ 1 mention / decided face): agree (the same), disagree "
                     "(both show some, not the same), text_only, faces_only, neither (e.g. only uncertain faces). "
                     "An item without a scanned image is not compared: its face_status (no_image, not_scanned, "
                     "failed) stands here instead.",
    },
    "agreement_summary.csv": {"agreement": "Agreement kind (see agreement.csv).", "items": "Items of this kind.",
                              "share": "items ÷ items in agreement.csv with a scanned image; empty for no_image, "
                                       "not_scanned and failed, which are in no share."},
    "prominence.csv": {
        "measure": "faces: every decided face counts once (as by_gender.csv); area_weighted: each face weighted by "
                   "its area_share (faces without an image size left out); largest_face: only each item's "
                   "prominence_rank 1 face (who is the protagonist).",
        **{column: SHARES[column] for column in ("label", "faces")},
        "effective_faces": "What the interval rests on: the faces for faces and largest_face; for area_weighted "
                           "Kish's effective sample size (Σ area_share)² ÷ Σ area_share², fewer than the faces when "
                           "a few large faces carry most of the weight.",
        "corrected_share": "The label's share of the measure (of faces, of face area, of largest faces) corrected "
                           "with the same confusion as every share (named above). For area_weighted the "
                           "correction assumes a face's chance of misclassification does not depend on its size.",
        "ci_low": "Lower bound of the 95 % interval of corrected_share (the exact interval; for area_weighted the "
                  "weighted proportions enter it as effective_faces faces).",
        "ci_high": "Upper bound of the 95 % interval of corrected_share.",
    },
    "size_ratio.csv": {
        "numerator": "Label whose faces' mean area_share is divided (female where the model has it).",
        "denominator": "Label whose faces' mean area_share divides (male where the model has it).",
        "numerator_faces": "Faces decided as numerator with an area_share.",
        "denominator_faces": "Faces decided as denominator with an area_share.",
        "posters": "Items with at least one of those faces (what the bootstrap resamples).",
        "ratio": "Mean area_share of faces decided numerator ÷ that of faces decided denominator (1: as large). "
                 "From the decisions, not corrected: misclassification pulls it towards 1.",
        "ci_low": "2.5th percentile of ratio over 2,000 resamples of the posters (a poster's faces were sized "
                  "together, so posters, not faces, are resampled).",
        "ci_high": "97.5th percentile of ratio over the same resamples; empty where some resample has no "
                   "denominator face (unbounded above).",
    },
    # intercoder agreement of the hand labels (`classify.label.agreement`), of the whole catalogue whatever the filters
    "coding_agreement.csv": {
        "purpose": "Which hand labels: validation (a random sample that measures the model) or training.",
        "faces": "Faces labelled by two or more coders (the adjudicator `adjudicated` not counted).",
        "coders": "Coders who labelled those faces.", "codings": "Their labels of those faces.",
        "alpha": "Krippendorff's alpha (nominal), from the coincidence matrix; empty when undefined (every "
                 "label the same).",
        "alpha_low": "2.5th percentile of alpha over 2,000 bootstrap resamples of the faces.",
        "alpha_high": "97.5th percentile of alpha over the same resamples.",
        "percent": "Percent agreement: the share of agreeing coder pairs, averaged over the faces.",
        "percent_low": "2.5th percentile of percent over the bootstrap resamples.",
        "percent_high": "97.5th percentile of percent over the bootstrap resamples.",
        "disagreements": "Faces whose coders do not all agree (an `adjudicated` label, else the majority, is the "
                         "label the correction uses).",
        "settled": "Of those, faces the coder `adjudicated` has labelled; the rest are still listed by "
                   "`classify labels disagreements`.",
    },
}


def undocumented(name: str, columns: list[str]) -> list[str]:
    """The columns of file `name` the codebook does not describe."""
    described = COLUMNS.get(name, {})
    return [column for column in columns if column not in described]


def codebook_markdown(written: dict[str, list[str]], banner: str | None = None,
                      corrected_with: Mapping[str, str] | None = None) -> str:
    """codebook.md: per written file, each of its columns and what it means; `banner` (a demo's) first.

    `corrected_with`: model id → whose errors corrected its shares (`classify.train.domains.HeldOut.source`, or
    `classify.correction.Correction.description`: "card, domain posters, 220 out-of-fold faces" or "this
    collection's validation sample S, N labels (+ prior of K card faces)"), said once at the top, since a
    collection of paintings corrected with poster errors is a different figure.
    """
    lines = [f"**{banner}**", ""] if banner else []
    lines += ["# Codebook", "",
             "Tidy UTF-8 CSV, one row per observation; empty cells are missing values (no data), never zeros. "
             "How the tables were made (runs, detector settings, model and its evaluation): provenance.json.", ""]
    for model_id, source in (corrected_with or {}).items():
        lines += [f"Corrected shares of model {model_id}: corrected with the errors of {source}.", ""]
    for name, columns in written.items():
        lines += [f"## {name}", "", "| column | meaning |", "|---|---|"]
        lines += [f"| {column} | {COLUMNS[name][column].replace('|', '/')} |" for column in columns]
        lines.append("")
    return "\n".join(lines)
