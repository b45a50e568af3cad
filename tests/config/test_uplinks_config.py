"""The `uplinks` section: destinations by type, limits, and clear errors for what cannot work."""

from __future__ import annotations

from config.uplinks import EpcisHttpDestination, MqttDestination, SiteDatabaseDestination
from tests.config.conftest import BASE_SITE, Check

UPLINKS = """
uplinks:
  outbox:
    max_rows: 100000
    max_gib: 0.5
  destinations:
    - id: hq
      type: epcis-http
      url: https://epcis.example.com/api
    - id: plant-broker
      type: mqtt
      host: 127.0.0.1
    - id: site-db
      type: site-database
      url: postgresql+psycopg://tracegate@site-server/records
"""


def test_absent_means_no_uplink_and_each_destination_type_is_read(check: Check) -> None:
    assert check(BASE_SITE).config.uplinks is None  # type: ignore[union-attr]
    report = check(BASE_SITE + UPLINKS)
    assert report.problems == []
    assert report.config is not None
    section = report.config.uplinks
    assert section is not None
    hq, broker, site_db = section.destinations
    assert isinstance(hq, EpcisHttpDestination)
    assert hq.events_per_document == 500
    assert isinstance(broker, MqttDestination)
    assert broker.port == 1883
    assert isinstance(site_db, SiteDatabaseDestination)
    assert section.outbox.max_bytes == 512 * 1024**2
    assert section.outbox.high_water == 0.8


def test_mistakes_are_named_with_their_place_and_fix(check: Check) -> None:
    report = check(BASE_SITE + UPLINKS.replace("https://epcis.example.com/api", "ftp://x"))
    assert report.config is None
    (problem,) = report.problems
    assert "not an http(s) URL" in problem.message
    assert "https://epcis.example.com/api" in (problem.hint or "")
    assert problem.line > 0
    report = check(BASE_SITE + UPLINKS.replace("id: site-db", "id: hq"))
    assert report.config is None
    assert "destination id hq is used more than once" in report.problems[0].message


def test_uplinks_need_the_site_gln(check: Check) -> None:
    text = (BASE_SITE + UPLINKS).replace('  gln: "9501101000001"\n', "")
    report = check(text)
    assert report.config is None
    assert any("site's GLN" in p.message for p in report.problems)
