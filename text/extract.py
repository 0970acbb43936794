"""Gendered mentions in one parsed description: gender, trigger, role, role lemma, category.

Rules (EXTRACTOR_VERSION changes whenever they do, so stored counts say which rules made them):

* A mention is a token whose lower-case form is in the lexicon. Person nouns and gender adjectives
  must be tagged noun, proper noun or adjective ("to man the guns" is no mention); role nouns
  count whatever their tag, because the small model tags rare nouns in lists ("nursemaid",
  "maid") as verbs. Names and pronouns are not resolved.
* Role nouns (lexicon kind "role": "actress", "policeman") are their own role: role = the word
  with its noun compounds ("traffic policeman"), lemma from the lexicon.
* Kin terms (kind "kin": "wife", "mother") name a relation, not a role: "the farmer's wife",
  "a worker and his wife" and "a father and son banquet" give their mentions with role None,
  and their category is that of the relation (family), so family mentions can be counted; the
  possessor is not gendered and gives nothing.
* Person nouns and gender adjectives ("woman", "female") modifying a noun give that noun as the
  role: "woman tractor driver" → "tractor driver", "female workers" → "workers", and in
  "men and women workers" both words share "workers". This holds wherever the phrase sits in the
  sentence and however the small model attaches the gender word ("A woman tractor driver
  smiles", "Two men welders at a shipyard"). Only noun compounds and adjectives may
  stand between trigger and noun, so "a woman feeding chickens" has no role, and the noun must
  not be a gerund or participle ("a boy and a girl skating", "a man and a woman dancing"). A person noun with
  its own noun compounds is a role ("copy boy").
* A person noun is also the role it is said to be, in apposition ("a woman, a welder by trade")
  or as the predicate of be/become/remain ("the women are welders"), when the category map knows
  that role: the same parses carry lists ("a man, a horse and a plow") and descriptions ("the
  man is a symbol of labour"). Otherwise ("a woman", "the woman's face") the role is None.
* Mentions inside double-quoted spans (straight or curly) are kept with in_title=True: they name
  works ("The Chocolate Soldier") or quote signs, not people shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from postercensus.text.categories import CategoryMap
from postercensus.text.lexicon import Lexicon

EXTRACTOR_VERSION = "3"  # bump whenever a rule below changes

TAGS = {"NOUN", "PROPN", "ADJ"}
ROLE_HEAD_TAGS = {"NOUN", "PROPN"}
BETWEEN_TAGS = {"NOUN", "PROPN", "ADJ", "PUNCT", "CCONJ", "NUM"}
SUBJECT_DEPS = {"nsubj", "nsubjpass"}
COPULAS = {"be", "become", "remain"}
PREDICATE_DEPS = {"attr", "oprd"}
TITLE = re.compile(r'"[^"\n]{1,300}"|“[^”\n]{1,300}”')


@dataclass(frozen=True)
class Mention:
    gender: str             # "female" | "male" (lexicon value)
    trigger: str            # the gendered word as written, e.g. "women"
    role: str | None        # the role as written, e.g. "tractor driver"; None when none
    role_lemma: str | None  # e.g. "tractor driver", "worker"
    category: str | None    # category of the role (kin terms: of the relation); None otherwise
    start: int              # character offsets of the trigger in the cleaned text
    end: int
    sentence: str
    in_title: bool          # inside a quoted title of a work


def title_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of double-quoted passages (quotes included)."""
    return [match.span() for match in TITLE.finditer(text)]


def extract(doc: Doc, lexicon: Lexicon, categories: CategoryMap) -> list[Mention]:
    """Every gendered mention in `doc`, in text order."""
    titles = title_spans(doc.text)
    mentions = []
    for token in doc:
        entry = lexicon.get(token.text)
        if entry is None or (entry.kind != "role" and token.pos_ not in TAGS):
            continue
        role = _role(token, lexicon, categories)
        role_text = _text(role) if role else None
        role_lemma = _lemma(role, lexicon) if role else None
        start, end = token.idx, token.idx + len(token.text)
        mentions.append(Mention(
            gender=entry.gender,
            trigger=token.text,
            role=role_text,
            role_lemma=role_lemma,
            category=categories.category(role_lemma or (entry.lemma if entry.kind == "kin" else None)),
            start=start,
            end=end,
            sentence=token.sent.text.strip(),
            in_title=any(left <= start < right for left, right in titles),
        ))
    return mentions


def _role(token: Token, lexicon: Lexicon, categories: CategoryMap) -> list[Token] | None:
    """The tokens of the role `token` names or modifies, in text order; None when it has none."""
    kind = lexicon.get(token.text).kind
    if kind == "role":
        return _compounds(token, lexicon) + [token]
    if kind == "kin":
        return None  # a relation, whatever it modifies: "a father and son banquet" has no role
    anchor = token
    while anchor.dep_ == "conj" and lexicon.get(anchor.head.text) and anchor.head.i < anchor.i:
        anchor = anchor.head  # "men and women workers": "women" hangs off "men"
    head = _modified_noun(anchor)
    if head is not None:
        head_entry = lexicon.get(head.text)
        if head_entry and head_entry.kind != "role":
            return None  # "female woman": nothing more than the person
        return _compounds(head, lexicon) + [head]
    if kind != "person":
        return None
    compounds = _compounds(token, lexicon)
    if compounds:
        return compounds + [token]
    return _described_as(token, anchor, lexicon, categories)


def _modified_noun(anchor: Token) -> Token | None:
    """The noun after `anchor` that the gender word modifies ("woman tractor driver" → "driver").

    The small model attaches a leading gender word in several ways: to the role ("woman" →
    "driver"), to the first noun of a compound ("woman" → "tractor" → "driver", mostly at the
    start of a sentence) or, before a plural, as a subject ("Two men welders": "men" → nsubj of
    "welders"). So the compound chain is climbed to its last noun, any relation but a
    possessive counts, and only noun compounds and adjectives may stand between: "a woman
    feeding chickens", "the woman's face" and "a girl roller skating" have no role.
    """
    head = anchor.head
    if head.i <= anchor.i or anchor.dep_ == "poss":
        return None
    while head.dep_ == "compound" and head.head.i > head.i and head.head.pos_ in ROLE_HEAD_TAGS:
        head = head.head
    if head.pos_ not in ROLE_HEAD_TAGS or _is_gerund(head):
        return None
    if all(_may_stand_between(other, anchor, head) for other in head.doc[anchor.i + 1:head.i]):
        return head
    return None


def _described_as(token: Token, anchor: Token, lexicon: Lexicon, categories: CategoryMap) -> list[Token] | None:
    """The role a person noun is said to be, in apposition or as a predicate.

    "A woman, a welder by trade, ..." and "The welder, a woman, ..." (apposition), "The woman is
    a welder", "These men are farmers", "The men became soldiers" (predicate of be/become/
    remain; conjoined subjects share it). Unlike a modified noun, such a noun must be a role the
    category map knows: lists ("a man, a horse and a plow") and descriptions ("the man is a
    symbol of labour") are parsed the same way and are no roles. Pronouns are not mentions, so
    "She is a welder" gives nothing.
    """
    candidates = [child for child in token.rights if child.dep_ == "appos"]
    if token.dep_ == "appos" and token.head.i < token.i:
        candidates.append(token.head)
    if anchor.dep_ in SUBJECT_DEPS and anchor.head.lemma_ in COPULAS:
        candidates.extend(child for child in anchor.head.rights if child.dep_ in PREDICATE_DEPS)
    for noun in candidates:
        if noun.pos_ != "NOUN" or lexicon.get(noun.text) or _is_gerund(noun) or _in_list(noun):
            continue
        role = _compounds(noun, lexicon) + [noun]
        if categories.knows(_lemma(role, lexicon)):
            return role
    return None


def _in_list(noun: Token) -> bool:
    """Whether `noun` is one item of a coordination ("a man, a horse and a plow")."""
    return noun.dep_ == "conj" or any(child.dep_ in {"conj", "cc"} for child in noun.children)


def _is_gerund(token: Token) -> bool:
    """"-ing" words: the small model tags "skating" in "a girl skating" as a noun, yet no role
    noun ends in "-ing" after a gender word."""
    return token.tag_ == "VBG" or token.lower_.endswith("ing")


def _may_stand_between(other: Token, anchor: Token, head: Token) -> bool:
    """Whether `other` may sit between a gender modifier and its role noun ("woman tractor driver")."""
    if other in anchor.subtree:
        return other.pos_ in BETWEEN_TAGS  # the conjoined gender words: "men and women"
    if other.pos_ not in BETWEEN_TAGS or _is_gerund(other):
        return False  # "a man drinking water"
    while other != head:  # a modifier of the role, or of one of its compounds ("steel mill worker")
        if other.dep_ not in {"compound", "amod", "punct"} or other.head.i <= other.i:
            return False
        other = other.head
    return True


def _compounds(head: Token, lexicon: Lexicon) -> list[Token]:
    """Common-noun compounds of `head` that are not gendered, with their subtrees ("tractor").

    Proper nouns are left out: "WPA women painters" and "New Trier girls' club" name an
    organisation, not a kind of role.
    """
    tokens: list[Token] = []
    for child in head.lefts:
        if (child.dep_ == "compound" and child.pos_ == "NOUN" and not lexicon.get(child.text)
                and not any(_is_gerund(t) for t in child.subtree)):  # "dancing girls", "working class men"
            tokens.extend(t for t in child.subtree if not lexicon.get(t.text))
    return sorted(tokens, key=lambda t: t.i)


def _text(tokens: list[Token]) -> str:
    return "".join(t.text_with_ws for t in tokens[:-1]) + tokens[-1].text


def _lemma(tokens: list[Token], lexicon: Lexicon) -> str:
    """Lower-case role lemma, the head lemmatised: "tractor drivers" → "tractor driver"."""
    head = tokens[-1]
    entry = lexicon.get(head.text)
    head_lemma = entry.lemma if entry else head.lemma_.lower()
    return ("".join(t.text_with_ws for t in tokens[:-1]).lower() + head_lemma).strip()
