"""Language detection: among the configured languages, with a confidence, or "und" with a reason."""

from __future__ import annotations

import pytest

from conf.settings import DEFAULT_LANGUAGES
from ingest.language import LanguageIdentifier
from ingest.models import UNDETERMINED

SENTENCES = {
    "fr": "Le gouvernement a présenté mercredi son projet de loi sur l'immigration devant le Conseil des ministres.",
    "en": "The government presented its immigration bill to parliament on Wednesday after months of delay.",
    "de": "Die Bundesregierung hat am Mittwoch ihren Gesetzentwurf zur Einwanderung im Kabinett vorgestellt.",
    "es": "El Gobierno presentó el miércoles su proyecto de ley de inmigración ante el Consejo de Ministros.",
    "it": "Il governo ha presentato mercoledì il suo disegno di legge sull'immigrazione al Consiglio dei ministri.",
    "pt": "O governo apresentou na quarta-feira o seu projeto de lei sobre a imigração ao Conselho de Ministros.",
    "nl": "De regering heeft woensdag haar wetsvoorstel over immigratie aan de ministerraad voorgelegd.",
    "ar": "قدمت الحكومة يوم الأربعاء مشروع قانون الهجرة إلى مجلس الوزراء بعد أشهر من التأخير.",
    "ru": "Правительство в среду представило законопроект об иммиграции на заседании кабинета министров.",
    "tr": "Hükümet çarşamba günü göç yasası tasarısını bakanlar kuruluna sundu ve tartışmalar başladı.",
    "uk": "Уряд у середу представив законопроєкт про імміграцію на засіданні Кабінету міністрів.",
    "pl": "Rząd przedstawił w środę projekt ustawy o imigracji na posiedzeniu Rady Ministrów.",
}


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(DEFAULT_LANGUAGES)


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_each_configured_language_is_recognised(identifier: LanguageIdentifier, language: str) -> None:
    detected = identifier.detect(SENTENCES[language])
    assert detected.code == language
    assert 0.5 <= detected.confidence <= 1.0
    assert detected.note is None


def test_text_in_a_script_of_no_configured_language_is_undetermined(identifier: LanguageIdentifier) -> None:
    detected = identifier.detect("สวัสดีครับ วันนี้อากาศดีมาก ประชาชนจำนวนมากออกมาเดินเล่นที่สวนสาธารณะ")
    assert (detected.code, detected.confidence) == (UNDETERMINED, 0.0)
    assert detected.note is not None and "none of the configured languages" in detected.note


def test_too_little_text_is_undetermined(identifier: LanguageIdentifier) -> None:
    for text in ("", "2024", "Ok !", "   \n "):
        detected = identifier.detect(text)
        assert detected.code == UNDETERMINED
        assert detected.note is not None and "too little text" in detected.note


def test_a_declared_language_is_used_when_the_detector_cannot_tell(identifier: LanguageIdentifier) -> None:
    detected = identifier.detect("Paris 2024", hint="fr-FR")
    assert detected.code == "fr"
    assert detected.note is not None and "declaration" in detected.note


def test_a_declared_language_does_not_override_a_clear_detection(identifier: LanguageIdentifier) -> None:
    assert identifier.detect(SENTENCES["en"], hint="fr").code == "en"


def test_detection_is_restricted_to_the_configured_languages() -> None:
    only_romance = LanguageIdentifier(["fr", "es"])
    assert only_romance.detect(SENTENCES["it"]).code in {"fr", "es", UNDETERMINED}
    assert only_romance.languages == ("fr", "es")


def test_a_single_configured_language_needs_no_detector() -> None:
    assert LanguageIdentifier(["fr"]).detect(SENTENCES["fr"]).code == "fr"


def test_an_unknown_language_code_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="'xx'"):
        LanguageIdentifier(["fr", "xx"])
