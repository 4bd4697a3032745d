"""A synthetic Norwegian GP practice as a legacy system would leave it (the demo source of ``--system practice``).

``write_practice(folder, patients=200, seed=...)`` writes::

    folder/journal.sqlite     the practice database: PASIENT, KONTAKT, JOURNALNOTAT, DIAGNOSE, CAVE, ...
    folder/meldinger/inn/     KITH messages received (lab results, discharge letters, receipts, notes)
    folder/meldinger/ut/      KITH messages sent (referrals, notes)
    folder/vedlegg/           attachments named in DOKUMENT (scanned TIFF, JPEG, RTF, DOC, PDF)

Everything is invented. Patients carry *synthetic* fødselsnummer (month + 80, as Skatteetaten's
synthetic test numbers) or D-numbers (day + 40, with the same month + 80), with valid mod-11 check
digits, so no number can be a real person's. Times are legacy text (``DD.MM.YYYY HH:MM``, naive
local time). Journal notes written before 2004 come from the practice's old DOS system: their
bytes are cp865 in a TEXT column, as a migration into SQLite would have copied them.

The same ``patients``, ``seed`` and ``flaws`` give byte-identical files. Rows are written in chunks
(``executemany``) and message files as they are made, so memory stays flat at any size.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

from converters import practice_codes as pc
from converters.practice_codes import DOCTORS, PROBLEMS, STAFF, Problem
from converters.practice_content import Content, Person
from converters.practice_schema import SCHEMA
from converters.practice_traffic import Traffic

__all__ = ["DB_NAME", "SCHEMA", "synthetic_number", "write_practice"]

DB_NAME = "journal.sqlite"
END = date(2025, 12, 31)
FIRST = date(1995, 1, 2)
DOS_ERA_END = date(2004, 1, 1)
CHUNK_PATIENTS = 500


def synthetic_number(born: date, *, female: bool, d_number: bool, rng: random.Random) -> str:
    """Return a synthetic fødselsnummer (month + 80) or D-nummer (day + 40, month + 80) with valid check digits.

    Both are recognised by ``formats.identifiers.classify`` as the synthetic kind (``TNR``), valid.
    """
    day = born.day + (40 if d_number else 0)
    month = born.month + 80
    low, high = (500, 999) if born.year >= 2000 else (0, 499)
    w1, w2 = (3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    while True:
        serial = rng.randrange(low, high, 2) + (0 if female else 1)
        digits = [int(c) for c in f"{day:02d}{month:02d}{born:%y}{serial:03d}"]
        k1 = (11 - sum(w * d for w, d in zip(w1, digits, strict=True)) % 11) % 11
        if k1 == 10:
            continue
        digits.append(k1)
        k2 = (11 - sum(w * d for w, d in zip(w2, digits, strict=True)) % 11) % 11
        if k2 != 10:
            return "".join(map(str, digits)) + str(k2)


def _day(d: date) -> str:
    return f"{d:%d.%m.%Y}"


def _stamp(t: datetime) -> str:
    return f"{t:%d.%m.%Y %H:%M}"


class _Writer:
    """Buffers rows per table and writes them in chunks."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.rows: dict[str, list[tuple[object, ...]]] = {t: [] for t in SCHEMA}
        self.counts: dict[str, int] = dict.fromkeys(SCHEMA, 0)
        self.sql = {}
        for table, cols in SCHEMA.items():
            marks = ", ".join("CAST(? AS TEXT)" if c == "TEKST" and table == "JOURNALNOTAT" else "?" for c in cols)
            self.sql[table] = f"INSERT INTO {table} VALUES ({marks})"

    def add(self, table: str, *values: object) -> int:
        self.counts[table] += 1
        self.rows[table].append(values)
        return self.counts[table]

    def next_id(self, table: str) -> int:
        return self.counts[table] + 1

    def flush(self) -> None:
        for table, rows in self.rows.items():
            if rows:
                self.con.executemany(self.sql[table], rows)
                rows.clear()
        self.con.commit()


class _Practice:
    """Makes patients one by one, with everything that belongs to them."""

    def __init__(self, folder: Path, con: sqlite3.Connection, rng: random.Random, *, flaws: bool) -> None:
        self.folder = folder
        self.rng = rng
        self.flaws = flaws
        self.db = _Writer(con)
        self.content = Content(rng)
        self.weights = [p.weight for p in PROBLEMS]
        self.acute = [p for p in PROBLEMS if not p.chronic]
        self.chronic = [p for p in PROBLEMS if p.chronic]
        self.traffic = Traffic(folder, rng, self._document, flaws=flaws)

    def _document(self, pasnr: int, kid: int, file_name: str, title: str, category: str, day: date, mime: str) -> None:
        self.db.add("DOKUMENT", self.db.next_id("DOKUMENT"), pasnr, kid, file_name, title, category, _day(day), mime)

    def reference(self) -> None:
        self.db.add("PRAKSIS", *pc.PRACTICE.values())
        for s in STAFF:
            self.db.add("BEHANDLER", s.staff_id, s.hpr or None, s.given, s.family, s.title, s.role)
        for code, text, fee in pc.TARIFFS:
            self.db.add("TAKSTKODE", code, text, float(fee))

    def patient(self) -> None:
        rng = self.rng
        pasnr = self.db.next_id("PASIENT")
        female = rng.random() < 0.52
        born = date(1925, 1, 1) + timedelta(days=rng.randrange((END - date(1925, 1, 1)).days - 30))
        d_number = born.year < 2000 and rng.random() < 0.05
        fnr = synthetic_number(born, female=female, d_number=d_number, rng=rng)
        given = rng.choice(pc.FEMALE if female else pc.MALE)
        family = rng.choice(pc.SURNAMES)
        place = rng.choice(pc.PLACES)
        gp = rng.choice(DOCTORS)
        joined = max(born, FIRST + timedelta(days=rng.randrange(0, 9000)))
        joined = min(joined, END - timedelta(days=30))
        died = None
        if (END - born).days > 75 * 365 and rng.random() < 0.08:
            died = joined + timedelta(days=rng.randrange(30, max(31, (END - joined).days)))
        self.db.add(
            "PASIENT", pasnr, fnr, "D" if d_number else "F", family, given, _day(born), "K" if female else "M",
            f"{rng.choice(pc.STREETS)} {rng.randint(1, 80)}", place.postcode, place.town, place.municipality,
            f"{rng.choice('49')}{rng.randrange(10**7):07d}", gp.staff_id, _day(joined), _day(died) if died else None,
        )  # fmt: skip
        person = Person(pasnr, fnr, given, family, born, female, d_number, gp)
        last = died or END
        age = (last - born).days / 365.25
        chronic = [p for p in self.chronic if rng.random() < min(0.5, age / 200)][:2]
        count = max(1, int(rng.expovariate(1 / (2 + age / 12))))
        count = min(count, 40)
        days = sorted(rng.randrange((last - joined).days + 1) for _ in range(count))
        started: set[str] = set()
        for offset in days:
            problem = rng.choice(chronic) if chronic and rng.random() < 0.5 else rng.choices(PROBLEMS, self.weights)[0]
            self.contact(person, joined + timedelta(days=offset), problem, started)
        self.cave(person, joined)
        self.vaccines(person, joined, last)

    def contact(self, p: Person, day: date, problem: Problem, started: set[str]) -> None:
        rng, db = self.rng, self.db
        kind = rng.choices(pc.CONTACT_KINDS, pc.CONTACT_WEIGHTS)[0]
        doctor = p.gp if rng.random() < 0.8 else rng.choice(DOCTORS)
        start = datetime(day.year, day.month, day.day, rng.randint(8, 15), rng.choice((0, 15, 30, 45)))  # noqa: DTZ001 - naive local time, as the legacy system wrote it
        minutes = 20 if kind in "OSV" else 10
        kid = db.next_id("KONTAKT")
        when = _stamp(start)
        if self.flaws and rng.random() < 0.002:
            when = f"30.02.{start.year} {start:%H:%M}"  # an impossible date typed into the old system
        db.add("KONTAKT", kid, p.pasnr, doctor.staff_id, when, minutes, kind, problem.code, problem.text)
        db.add("DIAGNOSE", db.next_id("DIAGNOSE"), kid, p.pasnr, "ICPC2", problem.code, problem.text, _day(day), "H")
        measures = self.measurements(p, kid, start, problem) if kind == "O" else {}
        labs = self.labs(p, kid, start, problem) if kind == "O" else []
        note_type = pc.NOTE_TYPES[kind]
        text = self.content.note(kind, problem, measures, labs, p)
        signed = start + timedelta(minutes=minutes, days=rng.choice((0, 0, 0, 1)))
        stored = _dos_bytes(text) if self.flaws and day < DOS_ERA_END else text
        nid = db.add(
            "JOURNALNOTAT", db.next_id("JOURNALNOTAT"), kid, p.pasnr, doctor.staff_id, _stamp(start), note_type,
            pc.NOTE_HEADINGS[note_type], stored, doctor.staff_id, _stamp(signed),
        )  # fmt: skip
        self.billing(p, kid, doctor, kind, day, problem, labs=bool(labs))
        self.booking(p, kid, doctor, kind, start, minutes)
        self.access(p, kid, nid, doctor, start)
        if problem.drug and problem.drug not in started:
            self.medication(p, doctor, day, problem, started)
        self.traffic.contact(p, kid, doctor, start, problem, labs)

    def measurements(self, p: Person, kid: int, start: datetime, problem: Problem) -> dict[str, str]:
        rng = self.rng
        wanted: list[str] = []
        if problem.code in ("K86", "T90", "A98", "K78", "T93") or rng.random() < 0.15:
            wanted += ["BTS", "BTD", "PULS"]
        if problem.code in ("T90", "A98") or rng.random() < 0.05:
            wanted += ["VEKT"]
        if problem.code in ("R74", "R81", "H71"):
            wanted += ["TEMP"] + (["SPO2"] if problem.code == "R81" else [])
        out: dict[str, str] = {}
        for code in wanted:
            m = pc.MEASURES[code]
            value = round(rng.uniform(m.low, m.high), m.decimals)
            shown = f"{value:.{m.decimals}f}"
            out[code] = shown.replace(".", ",")
            self.db.add(
                "MAALING", self.db.next_id("MAALING"), p.pasnr, kid, code, m.name, float(shown), m.unit, _stamp(start)
            )
        return out

    def labs(self, p: Person, kid: int, start: datetime, problem: Problem) -> list[tuple[str, str, str, str, str, str]]:
        rng = self.rng
        codes = problem.labs.split()
        if not codes or rng.random() < 0.3:
            return []
        taken = start + timedelta(minutes=10)
        out = []
        for code in codes:
            a = pc.ANALYSES[code]
            normal = rng.random() < 0.7
            value = round(
                rng.uniform(a.low, a.high) if normal else rng.uniform(a.spread_low, a.spread_high), a.decimals
            )
            shown = f"{value:.{a.decimals}f}"
            flag = "" if a.low <= value <= a.high else ("H" if value > a.high else "L")
            ref = f"{a.low:g} - {a.high:g}".replace(".", ",")
            pasnr = p.pasnr if not (self.flaws and rng.random() < 0.001) else 0  # an orphan left by a deleted patient
            self.db.add(
                "LABSVAR", self.db.next_id("LABSVAR"), pasnr, kid, code, a.name, shown.replace(".", ","), float(shown),
                a.unit or None, ref, flag or None, _stamp(taken), "Sentrallaboratoriet Sunnfjord",
            )  # fmt: skip
            out.append((code, a.name, shown, a.unit, ref, flag))
        return out

    def billing(
        self, p: Person, kid: int, doctor: pc.Staff, kind: str, day: date, problem: Problem, *, labs: bool
    ) -> None:
        codes = {"O": ["2ad"], "T": ["1bd"], "E": ["2ae"], "S": ["11ad"], "V": ["2ad"]}[kind]
        if kind == "O" and doctor.title.startswith("Spesialist"):
            codes.append("2cd")
        if labs:
            codes.append("701a")
        fees = {c: float(f) for c, _, f in pc.TARIFFS}
        status = "GODKJENT" if day.year < 2025 else self.rng.choice(("SENDT", "GODKJENT"))
        for code in codes:
            self.db.add(
                "TAKST", self.db.next_id("TAKST"), kid, p.pasnr, doctor.staff_id, code, 1, fees[code], problem.code,
                _day(day), status,
            )  # fmt: skip

    def booking(self, p: Person, kid: int, doctor: pc.Staff, kind: str, start: datetime, minutes: int) -> None:
        rng = self.rng
        kinds = {"O": "Konsultasjon", "T": "Telefontime", "E": "E-konsultasjon", "S": "Sykebesøk", "V": "Video"}
        channel = rng.choice(("TELEFON", "HELSENORGE", "SKRANKE")) if start.year > 2012 else "TELEFON"
        end = start + timedelta(minutes=minutes)
        self.db.add(
            "TIMEBOK", self.db.next_id("TIMEBOK"), p.pasnr, doctor.staff_id, _stamp(start), _stamp(end), kinds[kind],
            "MØTT", channel, kid,
        )  # fmt: skip
        if rng.random() < 0.06:
            earlier = start - timedelta(days=rng.randint(7, 60))
            self.db.add(
                "TIMEBOK", self.db.next_id("TIMEBOK"), p.pasnr, doctor.staff_id, _stamp(earlier),
                _stamp(earlier + timedelta(minutes=20)), "Konsultasjon", rng.choice(("IKKE MØTT", "AVBESTILT")),
                channel, None,
            )  # fmt: skip

    def access(self, p: Person, kid: int, nid: int, doctor: pc.Staff, start: datetime) -> None:
        rng = self.rng
        name = f"{doctor.given} {doctor.family}"
        station = f"KONTOR{doctor.staff_id}"
        for action, obj, oid, delta in (("LES", "JOURNAL", str(p.pasnr), 0), ("OPPRETT", "JOURNALNOTAT", str(nid), 9)):
            t = start + timedelta(minutes=delta, seconds=rng.randrange(60))
            self.db.add(
                "TILGANGSLOGG", self.db.next_id("TILGANGSLOGG"), f"{t:%d.%m.%Y %H:%M:%S}", doctor.staff_id, name,
                doctor.role, p.pasnr, action, obj, oid, station,
            )  # fmt: skip
        if rng.random() < 0.3:
            s = STAFF[4]
            t = start - timedelta(days=rng.randint(1, 14), seconds=rng.randrange(28800))
            self.db.add(
                "TILGANGSLOGG", self.db.next_id("TILGANGSLOGG"), f"{t:%d.%m.%Y %H:%M:%S}", s.staff_id,
                f"{s.given} {s.family}", s.role, p.pasnr, "LES", "TIMEBOK", str(kid), "RESEPSJON1",
            )  # fmt: skip

    def medication(self, p: Person, doctor: pc.Staff, day: date, problem: Problem, started: set[str]) -> None:
        rng = self.rng
        drug = pc.DRUGS[problem.drug]
        end = None if problem.chronic else day + timedelta(days=rng.choice((3, 7, 10, 14)))
        if problem.chronic:
            started.add(problem.drug)
        elif rng.random() < 0.6:
            return
        self.db.add(
            "LEGEMIDDEL", self.db.next_id("LEGEMIDDEL"), p.pasnr, doctor.staff_id, drug.atc, drug.product,
            drug.strength, drug.dosage, _day(day), _day(end) if end else None, problem.code,
            "AKTIV" if end is None else "SEPONERT",
        )  # fmt: skip

    def cave(self, p: Person, joined: date) -> None:
        rng = self.rng
        if rng.random() >= 0.08:
            return
        kind, agent, atc = rng.choice(pc.CAVE_AGENTS)
        reaction = "" if kind == "ANNET" else rng.choice(pc.REACTIONS)
        severity = "Livstruende" if reaction == "Anafylaksi" else rng.choice(pc.SEVERITY[:3])
        registered = joined + timedelta(days=rng.randrange(max(1, (END - joined).days)))
        self.db.add(
            "CAVE", self.db.next_id("CAVE"), p.pasnr, kind, agent, atc or None, reaction or None,
            severity if reaction else None, _day(registered), "AKTIV",
        )  # fmt: skip

    def vaccines(self, p: Person, joined: date, last: date) -> None:
        rng = self.rng
        for atc, name, doses in pc.VACCINES:
            if rng.random() >= (0.35 if atc in ("J07BB02", "J07BN01") else 0.06):
                continue
            day = joined + timedelta(days=rng.randrange(max(1, (last - joined).days)))
            nurse = STAFF[5]
            for dose in range(1, int(doses) + 1):
                when = day + timedelta(days=(dose - 1) * 42)
                if when > last:
                    break
                self.db.add(
                    "VAKSINE", self.db.next_id("VAKSINE"), p.pasnr, atc, name, f"{rng.choice('ABCDEFGH')}"
                    f"{rng.randrange(10000, 99999)}", _day(when), dose, "Venstre overarm", nurse.staff_id,
                    "J" if when.year >= 2004 else "N",
                )  # fmt: skip


def _dos_bytes(text: str) -> bytes | str:
    """Return the note as the DOS system stored it (cp865), or unchanged text if cp865 cannot hold it."""
    try:
        return text.encode("cp865")
    except UnicodeEncodeError:
        return text


def write_practice(directory: Path, *, patients: int = 200, seed: int = 20261126, flaws: bool = True) -> dict[str, int]:
    """Write the demo practice into ``directory`` (created; existing practice files are replaced).

    Args:
        directory: The practice folder to write (journal.sqlite, meldinger/, vedlegg/).
        patients: Number of synthetic patients (0 or more; 100,000 takes a few minutes).
        seed: Seed of the random generator; the same seed and size give byte-identical files.
        flaws: Include what a real legacy source holds: notes in cp865 bytes, a few impossible dates,
            orphan lab rows, a broken message file. ``False`` gives a clean, all-UTF-8 source.

    Returns:
        Rows per database table, plus ``meldinger`` and ``vedlegg``: the number of files written.

    Raises:
        ValueError: If ``patients`` is negative.
    """
    if patients < 0:
        raise ValueError(f"patients must be zero or more, not {patients}")
    directory.mkdir(parents=True, exist_ok=True)
    for old in ("meldinger", "vedlegg"):
        shutil.rmtree(directory / old, ignore_errors=True)
    for sub in ("meldinger/inn", "meldinger/ut", "vedlegg"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    db_path = directory / DB_NAME
    tmp = directory / f".{DB_NAME}.tmp"
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA page_size=4096")
        for table, cols in SCHEMA.items():
            con.execute(f"CREATE TABLE {table} ({', '.join(c if ' ' in c else c + ' TEXT' for c in cols)})")
        practice = _Practice(directory, con, random.Random(seed), flaws=flaws)
        practice.reference()
        for n in range(patients):
            practice.patient()
            if n % CHUNK_PATIENTS == CHUNK_PATIENTS - 1:
                practice.db.flush()
        practice.db.flush()
        for table in SCHEMA:
            if table in ("KONTAKT", "JOURNALNOTAT", "LABSVAR", "TAKST", "TILGANGSLOGG", "DOKUMENT", "TIMEBOK"):
                con.execute(f"CREATE INDEX {table}_PASNR ON {table} (PASNR)")
        con.commit()
    finally:
        con.close()
    tmp.replace(db_path)
    counts = dict(practice.db.counts)
    counts["meldinger"] = practice.traffic.messages
    counts["vedlegg"] = practice.traffic.attachments
    return counts
