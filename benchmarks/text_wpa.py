"""text/ on all 947 WPA poster descriptions: mentions per gender, top roles, mentions per category,
speed, hand-checked P/R; role P/R on the 60 hand-checked items and the 40 hand-written sentences.

Reads ../shared/data/wpa-posters (never copied into the repository). Speed is items per second on
this machine, once without and once with loading the spaCy model.
"""
from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_support import DATA, print_table, progress, require_data, timed  # noqa: E402

from tests.test_text_handchecked import hand_checked_scores  # noqa: E402
from tests.test_text_roles import role_scores  # noqa: E402
from postercensus.text.pipeline import TextPipeline  # noqa: E402
from postercensus.text.settings import TextSettings  # noqa: E402

WPA_CSV = DATA / "wpa-posters" / "posters-wpa-posters-2024-02-11.csv"
TOP_ROLES = 15


def main() -> None:
    require_data(WPA_CSV)
    with WPA_CSV.open(newline="", encoding="utf-8") as handle:
        descriptions = [row["description"] for row in csv.DictReader(handle)]
    progress(f"{len(descriptions)} descriptions")

    with timed() as load:
        pipeline = TextPipeline(TextSettings())
    with timed() as work:
        results = list(pipeline.process(descriptions))
    count = len(descriptions)
    print_table(["run", "seconds", "items/s"], [
        ["pipeline load excluded", f"{work.seconds:.2f}", f"{count / work.seconds:.0f}"],
        ["pipeline load included", f"{load.seconds + work.seconds:.2f}",
         f"{count / (load.seconds + work.seconds):.0f}"],
    ], title=f"speed ({count} descriptions, model {pipeline.version()['model']})")

    mentions = [m for result in results for m in result.mentions]
    per_gender = Counter((m.gender, m.in_title) for m in mentions)
    items = Counter(gender for result in results
                    for gender in {m.gender for m in result.mentions if not m.in_title})
    print_table(["gender", "mentions (outside titles)", "in titles", "items with a mention"], [
        [gender, per_gender[(gender, False)], per_gender[(gender, True)], items[gender]]
        for gender in ("female", "male")
    ], title="mentions per gender")

    counted = [m for m in mentions if not m.in_title]
    for gender in ("female", "male"):
        roles = Counter((m.role_lemma, m.category) for m in counted if m.gender == gender and m.role_lemma)
        without = sum(1 for m in counted if m.gender == gender and not m.role_lemma)
        print_table(["role", "category", "mentions"],
                    [[role, category, n] for (role, category), n in roles.most_common(TOP_ROLES)]
                    + [["(no role)", "", without]],
                    title=f"top {TOP_ROLES} roles, {gender}")

    categories = Counter((m.category, m.gender) for m in counted if m.category)
    print_table(["category", "female", "male"], [
        [category, categories[(category, "female")], categories[(category, "male")]]
        for category in sorted({category for category, _ in categories})
    ], title="mentions with a category, outside titles")

    warnings = Counter(result.warning for result in results if result.warning)
    if warnings:
        print_table(["warning", "items"], list(warnings.items()), title="warnings")

    precision, recall, disagreements = hand_checked_scores(pipeline, WPA_CSV)
    role_precision, role_recall, _ = hand_checked_scores(pipeline, WPA_CSV, roles_only=True)
    sentences = role_scores(pipeline)
    print_table(["sample", "pairs", "precision", "recall"], [
        ["60 hand-checked WPA items", "(gender, role lemma), roles or not", f"{precision:.3f}", f"{recall:.3f}"],
        ["60 hand-checked WPA items", "(gender, role lemma) with a role",
         f"{role_precision:.3f}", f"{role_recall:.3f}"],
        ["40 hand-written sentences", "(gender, head, role lemma) with a role",
         f"{sentences.precision:.3f}", f"{sentences.recall:.3f}"],
    ], title="hand-checked precision and recall, outside titles")
    print(f"category right for {sentences.category_accuracy:.3f} of the sentences' roles found right")
    for line in disagreements + sentences.disagreements:
        print(f"  {line}")


if __name__ == "__main__":
    main()
