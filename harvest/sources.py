"""A registered source (kind + params from postercensus.toml) back into its Harvester.

`postercensus refresh` repeats every harvest unattended from what each harvester's `params()`
stored, so this is the one place that knows how each kind reads those params back.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from postercensus.harvest.http import HttpClient
from postercensus.harvest.records import Harvester, HarvestError

KINDS = ("oai", "iiif", "csv", "folder")


def harvester_from_params(kind: str, params: Mapping[str, Any], client: HttpClient) -> Harvester:
    """The harvester `kind` with the stored `params`; a HarvestError names what is wrong with the entry."""
    try:
        return _build(kind, params, client)
    except KeyError as error:
        raise HarvestError(f"source of kind {kind!r} lacks the parameter {error.args[0]!r}") from error


def _build(kind: str, params: Mapping[str, Any], client: HttpClient) -> Harvester:
    if kind == "oai":
        from postercensus.harvest.oai import OaiHarvester

        return OaiHarvester.from_params(params, client)
    if kind == "iiif":
        from postercensus.harvest.iiif import DEFAULT_IMAGE_REQUEST, IiifHarvester

        return IiifHarvester(params["url"], client, image_request=params.get("image_request", DEFAULT_IMAGE_REQUEST))
    if kind == "csv":
        from postercensus.harvest.tabular import CsvColumns, CsvHarvester

        names = ("id", "title", "date", "keywords", "description", "image", "creator", "rights", "url")
        columns = CsvColumns(**{name: params.get(f"{name}_column") for name in names},
                             keywords_sep=params.get("keywords_sep", ";"))
        images = params.get("images")
        return CsvHarvester(Path(params["path"]), Path(images) if images else None, columns)
    if kind == "folder":
        from postercensus.harvest.tabular import FolderHarvester

        return FolderHarvester(Path(params["path"]))
    raise HarvestError(f"unknown source kind {kind!r} (known: {', '.join(KINDS)})")
