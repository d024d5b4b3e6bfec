"""The rows of one student file (province × school year), drawn for whole arrays of children at once.

The children are those of ``dan_so.population_cells`` for the school year's start; enrolment, grades,
schools, statuses and their dates follow the rates of ``synthetic.education`` (where the model is described).
Communes are taken block by block (the communes one hub commune's THPT schools serve); rows are sorted by
block, school, grade and given name, and numbered per school (``Mã học sinh``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from synthetic.dan_so import NATIONAL_BY_AGE_M, population_cells
from synthetic.geography import Geography
from synthetic.landing import numpy_rng
from synthetic.names import NAME_PARTS, Names, draw_names
from synthetic.periods import ordinal
from synthetic.population import ETHNICITY_CODES, KINH, PopulationModel, Profile, ethnicity_table

LEVELS = ("MN", "TH", "THCS", "THPT")
GRADES = ("NT", "MG") + tuple(str(g) for g in range(1, 13))
STATUSES = tuple(f"{i:02d}" for i in range(1, 13))
REASON_TEXTS = ("",) + tuple(f"{i:02d}" for i in range(1, 11))   # index 0: no reason
_LEVEL_DIGIT = {"MN": "0", "TH": "1", "THCS": "2", "THPT": "3"}
# levels with schools in every commune: ages served and the share of them attending (real size)
_COMMUNE_SCHOOLS = (("MN", (1, 2, 3, 4, 5), 0.75), ("TH", (6, 7, 8, 9, 10), 1.0), ("THCS", (11, 12, 13, 14), 0.92))


@dataclass(frozen=True)
class Rates:
    """The model's magnitudes (``synthetic.education`` owns the values)."""

    nursery_by_age: tuple[float, ...]
    kindergarten_by_age: dict[int, float]
    school_by_age: dict[int, float]
    minority_attendance: dict[int, float]
    on_time: tuple[tuple[float, float], tuple[float, float]]     # (primary, secondary): P(0), P(1) years late
    dropout: dict[str, float]
    excluded_dropout: dict[str, float]
    early_dropout_share: float
    transfer: dict[str, float]
    lone_transfer_out: float
    lone_transfer_in: float
    on_leave: float
    blank_id_share: float
    disability_share: float
    pupils_per_school: dict[str, int]
    thpt_block_children: float
    counted_reasons: tuple[tuple[str, float], ...]
    excluded_reasons: dict[str, tuple[tuple[str, float], ...]]


@dataclass
class School:
    code: str
    level: int          # index into LEVELS
    commune: int        # index into the file's communes
    prefix: str         # Mã học sinh prefix


@dataclass
class StudentRows:
    """One file's valid rows as arrays, in file order."""

    province: str
    label: str
    communes: list[str]
    schools: list[School]
    school: np.ndarray
    level: np.ndarray
    grade: np.ndarray          # index into GRADES
    number: np.ndarray         # Mã học sinh number within the school
    pid_head: np.ndarray       # index into pid_heads (the last: blank)
    pid_serial: np.ndarray
    names: Names
    birth: np.ndarray
    girl: np.ndarray
    ethnicity: np.ndarray      # index into ETHNICITY_CODES
    commune: np.ndarray
    status: np.ndarray         # index into STATUSES
    status_day: np.ndarray
    reason: np.ndarray         # index into REASON_TEXTS
    disabled: np.ndarray
    pid_heads: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.birth)

    def pid(self, i: int) -> str:
        head = self.pid_heads[int(self.pid_head[i])]
        return f"{head}{int(self.pid_serial[i]):06d}" if head else ""


def _schools(province: str, commune: str, commune_index: int, level: str, real_pupils: float,
             per_school: int) -> list[School]:
    n = max(1, round(real_pupils / per_school))
    return [School(f"{province}{commune}-{level}-{k:02d}", LEVELS.index(level), commune_index,
                   f"{province}{commune}{_LEVEL_DIGIT[level]}{k:02d}") for k in range(1, n + 1)]


def _pick(rng: np.random.Generator, cum: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1)


def _in_window(rng: np.random.Generator, first: date, last: date, n: int) -> np.ndarray:
    return ordinal(first) + (rng.random(n) * ((last - first).days + 1)).astype(np.int64)


def student_rows(geo: Geography, model: PopulationModel, vintage: str, start_year: int, label: str, province: str,
                 scale: float, seed: int, rates: Rates, thresholds: dict[tuple[Profile, int, bool], np.ndarray],
                 ) -> StudentRows:
    """The valid rows of one file. ``thresholds[(profile, level, minority)]``: cumulative probabilities of a
    counted dropout, a September dropout, a dropout with an excluded reason, a transfer, a leave."""
    y = start_year
    rng = numpy_rng(seed, "giao_duc_hoc_sinh", label, province, "rows")
    cells = list(population_cells(geo, model, y, province, scale, seed))
    communes = [c for c, _ in cells]
    share = np.array([model.weight[vintage][c] / model.national_weight for c in communes])

    def real(ages: tuple[int, ...]) -> np.ndarray:
        return share * 1_000_000 * sum(NATIONAL_BY_AGE_M[a] for a in ages)

    # blocks of communes served by one hub's THPT schools, and every school of the file
    thpt = real((15, 16, 17))
    block = np.zeros(len(communes), dtype=np.int64)
    schools: list[School] = []
    own = np.zeros((len(communes), 3, 2), dtype=np.int64)        # (first school, count) per commune and level
    hub_schools: list[tuple[int, int]] = []                        # per block
    members: list[int] = []
    total, b = 0.0, 0
    for k, commune in enumerate(communes):
        for j, (level, ages, attending) in enumerate(_COMMUNE_SCHOOLS):
            made = _schools(province, commune, k, level, real(ages)[k] * attending, rates.pupils_per_school[level])
            own[k, j] = (len(schools), len(made))
            schools.extend(made)
        members.append(k)
        block[k] = b
        total += thpt[k]
        if total >= rates.thpt_block_children or k == len(communes) - 1:
            hub = max(members, key=lambda m: (model.weight[vintage][communes[m]], communes[m]))
            made = _schools(province, communes[hub], hub, "THPT", total * 0.8, rates.pupils_per_school["THPT"])
            hub_schools.append((len(schools), len(made)))
            schools.extend(made)
            members, total, b = [], 0.0, b + 1
    hub_table = np.array(hub_schools or [(0, 0)], dtype=np.int64)

    # the children: one entry per person of the population feed
    counts = np.array([[pair for pair in ages] for _, ages in cells], dtype=np.int64).reshape(len(cells), -1, 2)
    n_ages = counts.shape[1] if len(cells) else 0
    flat = counts.reshape(-1)
    cell = np.repeat(np.arange(len(flat)), flat)
    commune = cell // (2 * n_ages) if n_ages else cell
    age = cell // 2 % n_ages if n_ages else cell
    girl = (cell % 2).astype(bool)
    n = len(cell)

    # ethnicity: the commune's provincial profile
    profiles = [model.profile(vintage, c) for c in communes]
    minority_share = np.array([p.minority_share for p in profiles])[commune] if n else np.zeros(0)
    mixes = np.array([p.mix for p in profiles], dtype=object)[commune] if n else np.zeros(0, dtype=object)
    ethnicity = np.full(n, ETHNICITY_CODES.index(KINH), dtype=np.int64)
    is_minority = rng.random(n) < minority_share
    u = rng.random(n)
    for mix in sorted(set(mixes.tolist())):
        codes, cum = ethnicity_table(mix)
        sel = is_minority & (mixes == mix)
        ethnicity[sel] = np.array([ETHNICITY_CODES.index(c) for c in codes])[_pick_u(u[sel], np.array(cum))]

    # enrolment and grade
    p = np.zeros(n)
    for a in range(n_ages):
        at = age == a
        if a <= 2:
            p[at] = rates.nursery_by_age[a]
        elif a <= 5:
            p[at] = rates.kindergarten_by_age[a]
        else:
            p[at] = rates.school_by_age[a] * np.where(is_minority[at], rates.minority_attendance.get(a, 1.0), 1.0)
    enrolled = rng.random(n) < p
    u_late = rng.random(n)
    primary = age <= 10
    on_time = np.where(primary, rates.on_time[0][0], rates.on_time[1][0])
    one_late = np.where(primary, rates.on_time[0][1], rates.on_time[1][1])
    late = np.where(u_late < on_time, 0, np.where(u_late < on_time + one_late, 1, 2))
    g = np.maximum(1, age - 5 - late)
    grade = np.where(age <= 2, 0, np.where(age <= 5, 1, g + 1))
    level = np.where(age <= 5, 0, np.where(g <= 5, 1, np.where(g <= 9, 2, 3)))
    keep = np.nonzero(enrolled)[0]
    commune, age, girl, ethnicity, is_minority = commune[keep], age[keep], girl[keep], ethnicity[keep], is_minority[keep]
    grade, level = grade[keep], level[keep]
    n = len(keep)

    # birth date (never 29 February; nursery children of age 0 are born January–June)
    birth_year = y - age
    day_of_year = (rng.random(n) * np.where((grade == 0) & (age == 0), 181, 365)).astype(np.int64)
    month_start = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])
    month = np.searchsorted(month_start, day_of_year, side="right") - 1
    birth = ((birth_year - 1970) * 12 + month).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) \
        + day_of_year - month_start[month]
    names = draw_names(rng, girl, ethnicity)
    blank = rng.random(n) < rates.blank_id_share
    century_sex = np.where(birth_year >= 2000, 2, 0) + girl
    pid_head = np.where(blank, 400, century_sex * 100 + birth_year % 100)
    pid_serial = (rng.random(n) * 1_000_000).astype(np.int64)
    disabled = rng.random(n) < rates.disability_share

    # school: one of the commune's schools of the level, or of the block's THPT schools
    u_school = rng.random(n)
    first_count = np.where((level == 3)[:, None], hub_table[block[commune]],
                           own[commune, np.minimum(level, 2)])
    school = first_count[:, 0] + (u_school * first_count[:, 1]).astype(np.int64)

    # status
    distinct: dict[Profile, int] = {}
    profile_of = np.array([distinct.setdefault(pr, len(distinct)) for pr in profiles], dtype=np.int64)
    by_profile = list(distinct)
    code = (profile_of[commune] * len(LEVELS) + level) * 2 + is_minority
    codes, row_key = np.unique(code, return_inverse=True)
    table = np.array([thresholds[(by_profile[c // (2 * len(LEVELS))], c // 2 % len(LEVELS), bool(c % 2))]
                      for c in codes.tolist()]).reshape(-1, 5)
    u = rng.random(n)
    limits = table[row_key] if n else np.zeros((0, 5))
    kind = (u[:, None] >= limits).sum(axis=1)           # 0 counted dropout … 4 leave, 5 enrolled
    status = np.zeros(n, dtype=np.int64)                # "01"
    status_day = np.full(n, ordinal(date(y, 9, 5)))
    reason = np.zeros(n, dtype=np.int64)
    v, w = rng.random(n), rng.random(n)
    term1 = _in_window(rng, date(y, 10, 1), date(y + 1, 1, 15), n)
    term2 = _in_window(rng, date(y + 1, 1, 16), date(y + 1, 5, 31), n)
    summer_after = _in_window(rng, date(y + 1, 6, 1), date(y + 1, 8, 15), n)
    september = _in_window(rng, date(y, 9, 6), date(y, 9, 30), n)
    summer_before = _in_window(rng, date(y, 7, 15), date(y, 8, 31), n)
    counted_cum = np.cumsum([wt for _, wt in rates.counted_reasons])
    counted_codes = np.array([REASON_TEXTS.index(c) for c, _ in rates.counted_reasons])
    counted_reason = counted_codes[_pick(rng, counted_cum, n)]
    # a dropout that counts: term 1 (05), term 2 (09) or summer (12)
    sel = kind == 0
    status[sel] = np.where(v[sel] < 0.45, 4, np.where(v[sel] < 0.85, 8, 11))
    status_day[sel] = np.where(v[sel] < 0.45, term1[sel], np.where(v[sel] < 0.85, term2[sel], summer_after[sel]))
    reason[sel] = counted_reason[sel]
    # left in September: not enrolled at start
    sel = kind == 1
    status[sel], status_day[sel], reason[sel] = 4, september[sel], counted_reason[sel]
    # bảo lưu / học nghề / mất tích: a dropout status with a reason that does not count
    sel = kind == 2
    which = (v * 3).astype(np.int64)
    status[sel] = np.array([4, 8, 11])[which[sel]]
    status_day[sel] = np.choose(which[sel], [term1[sel], term2[sel], summer_after[sel]]) if sel.any() else 0
    for lv, name in enumerate(LEVELS):
        pairs = rates.excluded_reasons[name]
        at = sel & (level == lv)
        codes = np.array([REASON_TEXTS.index(c) for c, _ in pairs])
        reason[at] = codes[_pick(rng, np.cumsum([wt for _, wt in pairs]), int(at.sum()))]
    # on leave, asked to come back
    sel = kind == 4
    status[sel] = np.where(v[sel] < 0.6, 2, 6)
    status_day[sel] = np.where(v[sel] < 0.6, term1[sel], term2[sel])
    # transfers: out (04/08/11) and in (02/06/10) by term; most are pairs inside the file
    sel = kind == 3
    period = np.select([v < 0.25, v < 0.45, v < 0.75, v < 0.95], [2, 0, 0, 1], 2)
    t_day = np.select([v < 0.25, v < 0.45, v < 0.75, v < 0.95], [summer_before, september, term1, term2], summer_after)
    transfer_in, transfer_out = np.array([1, 5, 9]), np.array([3, 7, 10])
    lone_in = sel & (w < rates.lone_transfer_in)
    status[lone_in], status_day[lone_in] = transfer_in[period[lone_in]], t_day[lone_in]
    out = sel & ~lone_in
    status[out], status_day[out] = transfer_out[period[out]], t_day[out]
    # the other half of a pair: a copy at another school of the level in the block
    pair_rows, targets, pair_communes = [], [], []
    block_communes = [np.nonzero(block == k)[0] for k in range(int(block.max()) + 1 if len(block) else 0)]
    level_schools: dict[tuple[int, int], list[int]] = {}
    for s_index, s in enumerate(schools):
        level_schools.setdefault((int(block[s.commune]), s.level), []).append(s_index)
    for i in np.nonzero(out & (w >= rates.lone_transfer_in + rates.lone_transfer_out))[0].tolist():
        others = [s for s in level_schools[(int(block[commune[i]]), int(level[i]))] if s != school[i]]
        if not others:
            continue
        target = others[int(rng.random() * len(others))]
        pair_rows.append(i)
        targets.append(target)
        pair_communes.append(schools[target].commune if schools[target].level != 3
                             else int(block_communes[int(block[commune[i]])][int(rng.random() * len(
                                 block_communes[int(block[commune[i]])]))]))
    pairs = np.array(pair_rows, dtype=np.int64)

    def with_pairs(values: np.ndarray, arrivals: np.ndarray | None = None) -> np.ndarray:
        return np.concatenate((values, values[pairs] if arrivals is None else arrivals))

    school = with_pairs(school, np.array(targets, dtype=np.int64))
    commune = with_pairs(commune, np.array(pair_communes, dtype=np.int64))
    status = with_pairs(status, transfer_in[period[pairs]] if len(pairs) else np.zeros(0, dtype=np.int64))
    level, grade, birth, girl, ethnicity = (with_pairs(x) for x in (level, grade, birth, girl, ethnicity))
    status_day, reason, disabled, pid_head, pid_serial = (with_pairs(x) for x in (status_day, reason, disabled,
                                                                               pid_head, pid_serial))
    names = Names(tuple(with_pairs(part) for part in names.parts))

    # file order: block, school, grade, given name, then the rest of the name; numbers per school
    school_rank = np.argsort(np.argsort(np.array([s.code for s in schools], dtype=object))) if schools \
        else np.zeros(0, dtype=np.int64)
    part_rank = _PART_RANK
    school_block = np.array([block[s.commune] for s in schools], dtype=np.int64)
    keys = [part_rank[p] for p in reversed(names.parts)] + [part_rank[names.given], grade,
                                                            school_rank[school], school_block[school]]
    order = np.lexsort(keys)
    school = school[order]
    by_school = np.argsort(school, kind="stable")
    sorted_school = school[by_school]
    starts = np.searchsorted(sorted_school, sorted_school, side="left")
    number = np.empty(len(order), dtype=np.int64)
    number[by_school] = np.arange(len(order)) - starts + 1
    pid_heads = [f"0{province}{d}{yy:02d}" for d in range(4) for yy in range(100)] + [""]
    return StudentRows(
        province=province, label=label, communes=communes, schools=schools, school=school, level=level[order],
        grade=grade[order], number=number, pid_head=pid_head[order], pid_serial=pid_serial[order],
        names=Names(tuple(part[order] for part in names.parts)), birth=birth[order], girl=girl[order],
        ethnicity=ethnicity[order], commune=commune[order], status=status[order], status_day=status_day[order],
        reason=reason[order], disabled=disabled[order], pid_heads=pid_heads)


def _pick_u(u: np.ndarray, cum: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), len(cum) - 1)


# rank of each name part in text order (sorting rows by given name)
_PART_RANK = np.argsort(np.argsort(np.array(NAME_PARTS.texts, dtype=object)))
