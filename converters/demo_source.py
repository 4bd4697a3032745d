"""Deterministic synthetic clinic export in the Synthea v3 CSV layout (18 tables).

Everything is invented. Names come from small Norwegian lists, and the SSN column holds a
*synthetic* fødselsnummer: valid mod-11 check digits, with 80 added to the birth month as in
Skatteetaten's synthetic test numbers, so it can never be a real person's number. Codes are
real public SNOMED CT, LOINC, RxNorm and CVX codes with their English display texts.
"""

from __future__ import annotations

import csv
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

__all__ = ["END", "SYNTHEA_HEADERS", "SYNTHETIC_MONTH_OFFSET", "fodselsnummer", "write_demo_source"]

Row = dict[str, str]
END = datetime(2026, 1, 1, tzinfo=UTC)  # nothing is dated after this moment
SYNTHETIC_MONTH_OFFSET = 80  # 0 gives ordinary (possibly real!) numbers


class _Town(NamedTuple):
    name: str
    county: str
    zip: str
    lat: float
    lon: float


class _Code(NamedTuple):
    code: str
    display: str
    cost: float


class _Class(NamedTuple):
    weight: int
    shortest: int  # minutes
    longest: int
    cost: str
    code: str  # SNOMED CT
    display: str


class _Condition(NamedTuple):
    code: str
    group: str  # chronic, infection, injury or pneumonia
    min_age: int
    drug: str  # RxNorm, "" for none
    procedure: str  # SNOMED CT, "" for none
    plan: str  # SNOMED CT care plan, "" for none
    display: str


def _words(text: str) -> list[str]:
    return text.split()


def _table(text: str) -> list[list[str]]:
    return [line.split("|") for line in text.strip().splitlines()]


def _codes(text: str) -> dict[str, _Code]:
    return {code: _Code(code, display, float(cost)) for code, cost, display in _table(text)}


# The header rows that Synthea v3's CSV exporter writes, one "file name=columns" per line.
_HEADER_ROWS = """
allergies=START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,DESCRIPTION1,SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2
careplans=Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION
claims=Id,PATIENTID,PROVIDERID,PRIMARYPATIENTINSURANCEID,SECONDARYPATIENTINSURANCEID,DEPARTMENTID,PATIENTDEPARTMENTID,DIAGNOSIS1,DIAGNOSIS2,DIAGNOSIS3,DIAGNOSIS4,DIAGNOSIS5,DIAGNOSIS6,DIAGNOSIS7,DIAGNOSIS8,REFERRINGPROVIDERID,APPOINTMENTID,CURRENTILLNESSDATE,SERVICEDATE,SUPERVISINGPROVIDERID,STATUS1,STATUS2,STATUSP,OUTSTANDING1,OUTSTANDING2,OUTSTANDINGP,LASTBILLEDDATE1,LASTBILLEDDATE2,LASTBILLEDDATEP,HEALTHCARECLAIMTYPEID1,HEALTHCARECLAIMTYPEID2
claims_transactions=ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,METHOD,FROMDATE,TODATE,PLACEOFSERVICE,PROCEDURECODE,MODIFIER1,MODIFIER2,DIAGNOSISREF1,DIAGNOSISREF2,DIAGNOSISREF3,DIAGNOSISREF4,UNITS,DEPARTMENTID,NOTES,UNITAMOUNT,TRANSFEROUTID,TRANSFERTYPE,PAYMENTS,ADJUSTMENTS,TRANSFERS,OUTSTANDING,APPOINTMENTID,LINENOTE,PATIENTINSURANCEID,FEESCHEDULEID,PROVIDERID,SUPERVISINGPROVIDERID
conditions=START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION
devices=START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UDI
encounters=Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION
imaging_studies=Id,DATE,PATIENT,ENCOUNTER,SERIES_UID,BODYSITE_CODE,BODYSITE_DESCRIPTION,MODALITY_CODE,MODALITY_DESCRIPTION,INSTANCE_UID,SOP_CODE,SOP_DESCRIPTION,PROCEDURE_CODE
immunizations=DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST
medications=START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION
observations=DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE
organizations=Id,NAME,ADDRESS,CITY,STATE,ZIP,LAT,LON,PHONE,REVENUE,UTILIZATION
patients=Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE
payer_transitions=PATIENT,MEMBERID,START_YEAR,END_YEAR,PAYER,SECONDARY_PAYER,OWNERSHIP,OWNERNAME
payers=Id,NAME,ADDRESS,CITY,STATE_HEADQUARTERED,ZIP,PHONE,AMOUNT_COVERED,AMOUNT_UNCOVERED,REVENUE,COVERED_ENCOUNTERS,UNCOVERED_ENCOUNTERS,COVERED_MEDICATIONS,UNCOVERED_MEDICATIONS,COVERED_PROCEDURES,UNCOVERED_PROCEDURES,COVERED_IMMUNIZATIONS,UNCOVERED_IMMUNIZATIONS,UNIQUE_CUSTOMERS,QOLS_AVG,MEMBER_MONTHS
procedures=START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION
providers=Id,ORGANIZATION,NAME,GENDER,SPECIALITY,ADDRESS,CITY,STATE,ZIP,LAT,LON,UTILIZATION
supplies=DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,QUANTITY
"""
SYNTHEA_HEADERS: dict[str, tuple[str, ...]] = {
    name: tuple(columns.split(",")) for name, columns in (row.split("=") for row in _words(_HEADER_ROWS))
}

_FEMALE = _words("""
Åse Åshild Bjørg Sølvi Frøydis Ingrid Kari Solveig Sigrid Marit Ragnhild Kjersti Nora Ida Thea Hege
Liv Astrid Tone Gunnhild
""")
_MALE = _words("""
Bjørn Øyvind Ørjan Håkon Pål Jørgen Ståle Åsmund Kåre Lars Ole Per Knut Magnus Sindre Eirik Trond
Geir Even Tor
""")
_SURNAMES = _words("""
Sæther Løvås Bråten Sørensen Ødegård Økland Strøm Næss Særheim Kråkenes Hansen Johansen Olsen
Larsen Andersen Pedersen Nilsen Berg Haugen Bakke Lie Dahl Lund Moen Solberg Fjeld Holm Grønnæs Bøe
""")
_STREETS = _words("""
Storgata Kirkegata Skolevegen Bjørkeveien Fjellveien Sjøgata Løkkeveien Solbakken Granåsen
Rådhusgata Tårnveien Ekornveien Fossveien Møllevegen
""")


_TOWNS = [
    _Town(n, c, z, float(la), float(lo))
    for n, c, z, la, lo in _table("""
Oslo|Oslo|0150|59.9139|10.7522
Bergen|Vestland|5003|60.3913|5.3221
Trondheim|Trøndelag|7010|63.4305|10.3951
Tromsø|Troms|9008|69.6496|18.9560
Kristiansand|Agder|4610|58.1599|8.0182
Stavanger|Rogaland|4006|58.9700|5.7331
Drammen|Buskerud|3015|59.7440|10.2045
Ålesund|Møre og Romsdal|6002|62.4722|6.1495
Bodø|Nordland|8006|67.2804|14.4049
Lillehammer|Innlandet|2609|61.1153|10.4662
Fredrikstad|Østfold|1606|59.2181|10.9298
Førde|Vestland|6800|61.4522|5.8572
Røros|Trøndelag|7374|62.5747|11.3842
""")
]
_HOSPITAL_TOWNS = 5  # the first towns also have a hospital
_PAYERS = (
    ("Folketrygden", 0.8),
    ("Nordlys Helseforsikring", 0.9),
    ("Fjordtrygd Forsikring", 0.7),
    ("NO_INSURANCE", 0.0),
)  # name, share of each charge covered
_PAYER_WEIGHTS = (75, 10, 10, 5)
# SNOMED CT|group|minimum age|RxNorm drug|procedure|care plan|display
_CONDITIONS = {
    c[0]: _Condition(c[0], c[1], int(c[2]), *c[3:])
    for c in _table("""
44054006|chronic|30|860975||698360004|Diabetes mellitus type 2 (disorder)
38341003|chronic|30|314076||443402002|Hypertensive disorder, systemic arterial (disorder)
55822004|chronic|30|314231||736285004|Hyperlipidemia (disorder)
53741008|chronic|45|259255|415070008||Coronary arteriosclerosis (disorder)
233678006|chronic|2|895994||699728000|Childhood asthma (disorder)
185086009|chronic|45|2123111|127783003|412776001|Chronic obstructive bronchitis (disorder)
49436004|chronic|50|855332|||Atrial fibrillation (disorder)
232353008|chronic|5|665078|||Perennial allergic rhinitis with seasonal variation
239873007|chronic|40|849574||408869004|Osteoarthritis of knee (disorder)
271737000|chronic|10|310325|||Anemia (disorder)
162864005|chronic|18|||718361005|Body mass index 30+ - obesity (finding)
40055000|chronic|18||||Chronic sinusitis (disorder)
195662009|infection|0|313782|||Acute viral pharyngitis (disorder)
10509002|infection|0|313782|||Acute bronchitis (disorder)
444814009|infection|0|562251|||Viral sinusitis (disorder)
65363002|infection|0|308182|||Otitis media (disorder)
43878008|infection|0|834060|117015009||Streptococcal sore throat (disorder)
68566005|infection|0|562251|||Urinary tract infectious disease (disorder)
233604007|pneumonia|0|308182|||Pneumonia (disorder)
44465007|injury|0|198405||91251008|Sprain of ankle (disorder)
70704007|injury|0|198405||91251008|Sprain of wrist (disorder)
62106007|injury|0|313782|||Concussion with no loss of consciousness (disorder)
283371005|injury|0|198405|288086009||Laceration of forearm (disorder)
263102004|injury|0|849574|274474001|385691007|Fracture subluxation of wrist (disorder)
58150001|injury|0|849574|274474001|385691007|Fracture of clavicle (disorder)
""")
}
_GROUPS = {
    group: [c for c in _CONDITIONS.values() if c.group == group]
    for group in ("chronic", "infection", "injury", "pneumonia")
}
_DRUGS = _codes("""
860975|3.10|24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet
314076|2.60|lisinopril 10 MG Oral Tablet
314231|4.20|Simvastatin 10 MG Oral Tablet
259255|6.50|Atorvastatin 80 MG Oral Tablet
895994|41.30|120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler
2123111|28.40|NDA020503 200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler
855332|3.80|Warfarin Sodium 5 MG Oral Tablet
665078|7.20|Loratadine 5 MG Chewable Tablet
849574|3.30|Naproxen sodium 220 MG Oral Tablet
310325|1.90|ferrous sulfate 325 MG Oral Tablet
308182|8.90|Amoxicillin 250 MG Oral Capsule
834060|9.40|Penicillin V Potassium 250 MG Oral Tablet
562251|12.10|Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet
313782|1.20|Acetaminophen 325 MG Oral Tablet
198405|1.40|Ibuprofen 100 MG Oral Tablet
""")
_PROCEDURES = _codes("""
430193006|88|Medication Reconciliation (procedure)
710824005|64|Assessment of health and social care needs (procedure)
428211000124100|72|Assessment of substance use (procedure)
171207006|61|Depression screening (procedure)
73761001|1140|Colonoscopy (procedure)
415070008|9800|Percutaneous coronary intervention (procedure)
127783003|210|Spirometry (procedure)
117015009|95|Throat culture (procedure)
288086009|340|Suture open wound (procedure)
274474001|520|Bone immobilization (procedure)
399208008|260|Plain chest X-ray (procedure)
168537006|180|Plain radiography (procedure)
""")
_ROUTINE = ("430193006", "710824005", "428211000124100", "171207006")
_PLANS = {
    code: display
    for code, display in _table("""
698360004|Diabetes self management plan
443402002|Lifestyle education regarding hypertension
736285004|Hyperlipidemia clinical management plan
699728000|Asthma self management
412776001|Chronic obstructive pulmonary disease clinical management plan
408869004|Musculoskeletal care
718361005|Weight management program
91251008|Physical therapy procedure
385691007|Fracture care
""")
}
_IMAGING = {
    "233604007": ("51185008", "Chest", "399208008"),  # condition: body site, name, procedure
    "263102004": ("8205005", "Wrist", "168537006"),
    "58150001": ("51299004", "Clavicle", "168537006"),
}
_SUPPLIES = {
    "44054006": ("337388004", "Blood glucose testing strips (physical object)"),
    "283371005": ("713779008", "Nitrile examination/treatment glove, non-powdered, sterile (physical object)"),
}
# LOINC|unit|low|high|display
_VITALS = {
    c: (u, float(lo), float(hi), d)
    for c, u, lo, hi, d in _table("""
8302-2|cm|50|190|Body Height
29463-7|kg|3|120|Body Weight
39156-5|kg/m2|14|33|Body Mass Index
72514-3|{score}|0|4|Pain severity - 0-10 verbal numeric rating [Score] - Reported
9279-1|/min|12|20|Respiratory rate
8480-6|mm[Hg]|100|160|Systolic Blood Pressure
8462-4|mm[Hg]|60|100|Diastolic Blood Pressure
8867-4|/min|55|100|Heart rate
8310-5|Cel|36.2|37.4|Body temperature
""")
}
_LABS = {
    c: (u, float(lo), float(hi), d)
    for c, u, lo, hi, d in _table("""
2339-0|mg/dL|70|110|Glucose
6299-2|mg/dL|7|20|Urea Nitrogen
38483-4|mg/dL|0.6|1.3|Creatinine
49765-1|mg/dL|8.5|10.2|Calcium
2947-0|mmol/L|136|145|Sodium
6298-4|mmol/L|3.5|5.1|Potassium
2069-3|mmol/L|98|107|Chloride
20565-8|mmol/L|22|29|Carbon Dioxide
4548-4|%|6.2|9.5|Hemoglobin A1c/Hemoglobin.total in Blood
2093-3|mg/dL|160|280|Total Cholesterol
2571-8|mg/dL|80|250|Triglycerides
18262-6|mg/dL|80|190|Low Density Lipoprotein Cholesterol
2085-9|mg/dL|35|80|High Density Lipoprotein Cholesterol
718-7|g/dL|11.5|17|Hemoglobin [Mass/volume] in Blood
6690-2|10*3/uL|4|14|Leukocytes [#/volume] in Blood by Automated count
777-3|10*3/uL|150|400|Platelets [#/volume] in Blood by Automated count
""")
}
_PANELS = {
    "metabolic": tuple(_LABS)[:8],
    "diabetes": ("4548-4",),
    "lipids": tuple(_LABS)[9:13],
    "blood count": tuple(_LABS)[13:],
}
_SMOKING = ("Never smoker", "Never smoker", "Former smoker", "Every day smoker")
# CVX|cost|minimum age|maximum age|first year|display
_VACCINES = _table("""
140|140.52|1|120|2000|Influenza, seasonal, injectable, preservative free
113|116.00|18|120|2000|Td (adult) preservative free
115|130.00|11|18|2006|Tdap
62|210.00|9|26|2007|HPV, quadrivalent
08|95.00|0|18|2000|Hep B, adolescent or pediatric
133|220.00|65|120|2011|Pneumococcal conjugate PCV 13
213|0.00|12|120|2021|SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION
""")
_ALLERGENS = _table("""
111088007|SNOMED-CT|environment|Latex (substance)
84489001|SNOMED-CT|environment|Mold (organism)
260147004|SNOMED-CT|environment|House dust mite (organism)
256277009|SNOMED-CT|environment|Grass pollen (substance)
762952008|SNOMED-CT|food|Peanut (substance)
735029006|SNOMED-CT|food|Shellfish (substance)
7984|RxNorm|medication|Penicillin V
""")
_REACTIONS = _table("""
418290006|Itching (finding)
76067001|Sneezing
271807003|Eruption of skin (disorder)
247472004|Wheal (finding)
267036007|Dyspnea (finding)
39579001|Anaphylaxis (disorder)
""")
# class|weight|shortest and longest minutes|cost|SNOMED CT|display
_CLASSES = {
    kind: _Class(int(weight), int(shortest), int(longest), cost, code, display)
    for kind, weight, shortest, longest, cost, code, display in _table("""
wellness|40|15|45|136.80|162673000|General examination of patient (procedure)
ambulatory|30|15|30|85.55|185345009|Encounter for symptom
outpatient|10|20|60|110.00|185349003|Encounter for check up (procedure)
urgentcare|8|30|90|142.58|702927004|Urgent care clinic (environment)
emergency|7|60|240|146.18|50849002|Emergency room admission (procedure)
inpatient|3|1440|7200|1840.00|32485007|Hospital admission (procedure)
""")
}
_WELL_CHILD = ("410620009", "Well child visit (procedure)")
_CAUSE = {"inpatient": "pneumonia", "emergency": "injury", "ambulatory": "infection", "urgentcare": "infection"}


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: float) -> str:
    return f"{amount:.2f}"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def fodselsnummer(born: date, *, female: bool, rng: random.Random) -> str:
    """Return a synthetic Norwegian fødselsnummer with valid mod-11 check digits.

    Args:
        born: Birth date, written DDMMYY with SYNTHETIC_MONTH_OFFSET added to MM.
        female: Even ninth digit if true, odd if false.
        rng: Random source for the individual number (000-499 before 2000, 500-999 after).

    Returns:
        The 11 digits as a string; serials that give a check digit of 10 are skipped.

    """
    month = born.month + SYNTHETIC_MONTH_OFFSET
    low, high = (500, 999) if born.year >= 2000 else (0, 499)
    weights = ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
    while True:
        serial = rng.randrange(low, high, 2) + (0 if female else 1)
        digits = [int(c) for c in f"{born:%d}{month:02d}{born:%y}{serial:03d}"]
        for weight in weights:
            digits.append((11 - sum(w * d for w, d in zip(weight, digits, strict=True)) % 11) % 11)
        if 10 not in digits[9:]:
            return "".join(map(str, digits))


@dataclass
class _Patient:
    id: str
    born: date
    limit: datetime  # nothing is dated after this: death (midnight) or END
    stature: float
    gp: Row
    hospital: Row
    coverage: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    chronic: set[str] = field(default_factory=set)
    paid: float = 0.0
    covered: float = 0.0

    def age(self, moment: datetime) -> float:
        return (moment.date() - self.born).days / 365.25


@dataclass
class _Visit:
    id: str
    patient: _Patient
    start: datetime
    stop: datetime
    payer: str
    reason: _Condition | None
    lines: list[_Code]  # billed items: the encounter, procedures, immunizations


class _Export:
    """Every table, built in memory as rows keyed by Synthea column name."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: dict[str, list[Row]] = {name: [] for name in SYNTHEA_HEADERS}
        self.staff: dict[str, list[Row]] = {}
        self.share: dict[str, float] = {}
        self.totals: defaultdict[tuple[str, str], float] = defaultdict(float)  # (id, column) -> sum
        self.members: defaultdict[str, set[str]] = defaultdict(set)
        self.gps = {town.name: self._organization(town, "legesenter") for town in _TOWNS}
        self.hospitals = [self._organization(town, "sykehus") for town in _TOWNS[:_HOSPITAL_TOWNS]]
        for name, share in _PAYERS:
            row = {"Id": self.uid(), "NAME": name, "REVENUE": "0.00"}
            if share:
                row |= {
                    "ADDRESS": f"Postboks {rng.randint(100, 999)}",
                    "CITY": "Oslo",
                    "ZIP": "0101",
                    "STATE_HEADQUARTERED": "Oslo",
                    "PHONE": str(rng.randint(22000000, 22999999)),
                }
            self.share[row["Id"]] = share
            self.rows["payers"].append(row)

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def name(self, *, female: bool) -> tuple[str, str]:
        return self.rng.choice(_FEMALE if female else _MALE), self.rng.choice(_SURNAMES)

    def add(self, table: str, visit: _Visit, **values: str) -> None:
        self.rows[table].append({"PATIENT": visit.patient.id, "ENCOUNTER": visit.id, **values})

    def count(self, payer: str, what: str) -> None:
        self.totals[payer, ("COVERED_" if self.share[payer] else "UNCOVERED_") + what] += 1

    def _organization(self, town: _Town, kind: str) -> Row:
        rng = self.rng
        place = {
            "ADDRESS": f"{rng.choice(_STREETS)} {rng.randint(1, 60)}",
            "CITY": town.name,
            "STATE": town.county,
            "ZIP": town.zip,
            "LAT": f"{town.lat:.6f}",
            "LON": f"{town.lon:.6f}",
        }
        org = {"Id": self.uid(), "NAME": f"{town.name} {kind}", **place, "PHONE": str(rng.randint(30000000, 79999999))}
        self.rows["organizations"].append(org)
        speciality = "GENERAL PRACTICE" if kind == "legesenter" else "EMERGENCY MEDICINE"
        team = self.staff[org["Id"]] = []
        for _ in range(rng.randint(2, 4)):
            female = rng.random() < 0.5
            team.append(
                {
                    "Id": self.uid(),
                    "ORGANIZATION": org["Id"],
                    "NAME": " ".join(self.name(female=female)),
                    "GENDER": "MF"[female],
                    "SPECIALITY": speciality,
                    **place,
                }
            )
        self.rows["providers"].extend(team)
        return org

    def add_patient(self) -> None:
        rng = self.rng
        female = rng.random() < 0.5
        born = date(1935, 1, 1) + timedelta(days=rng.randrange(32500))  # up to late 2023
        died = None
        if born.year < 1965 and rng.random() < 0.12:
            earliest = max(born + timedelta(days=18263), date(2005, 1, 1))
            died = earliest + timedelta(days=rng.randrange((date(2025, 12, 1) - earliest).days))
        home = rng.choice(_TOWNS)
        pat = _Patient(
            self.uid(),
            born,
            _midnight(died) if died else END,
            rng.uniform(155, 178) + 12 * (not female),
            self.gps[home.name],
            rng.choice(self.hospitals),
        )
        given, surname = self.name(female=female)
        self._coverage(pat, f"{given} {surname}")
        hi = pat.limit - timedelta(days=7)  # the longest stay is five days
        lo = max(_midnight(born) + timedelta(days=1), hi - timedelta(days=7305))
        times = sorted(
            lo + timedelta(seconds=rng.randrange(int((hi - lo).total_seconds()))) for _ in range(rng.randint(5, 20))
        )
        diagnoses: dict[int, _Condition] = {}
        for _ in range(rng.randrange(int(pat.age(hi)) // 25 + 2)):
            index = rng.randrange(len(times))
            taken = set(diagnoses.values())
            options = [c for c in _GROUPS["chronic"] if c.min_age <= pat.age(times[index]) and c not in taken]
            if options and index not in diagnoses:
                diagnoses[index] = rng.choice(options)
        for index, start in enumerate(times):
            self._visit(pat, start, diagnoses.get(index), first=index == 0)
        adult = pat.age(pat.limit) >= 18
        married = adult and rng.random() < 0.5
        self.rows["patients"].append(
            {
                "Id": pat.id,
                "BIRTHDATE": born.isoformat(),
                "DEATHDATE": died.isoformat() if died else "",
                "SSN": fodselsnummer(born, female=female, rng=rng),
                "DRIVERS": f"S99{rng.randint(100000, 999999)}" if adult else "",
                "PASSPORT": f"X{rng.randint(10000000, 99999999)}X" if adult else "",
                "PREFIX": "" if not adult else "Mr." if not female else "Mrs." if married else "Ms.",
                "FIRST": given,
                "LAST": surname,
                "MAIDEN": rng.choice(_SURNAMES) if married and female else "",
                "MARITAL": ("M" if married else rng.choice("SDW")) if adult else "",
                "RACE": rng.choices(("white", "asian", "black", "other"), (85, 7, 4, 4))[0],
                "ETHNICITY": "nonhispanic",
                "GENDER": "MF"[female],
                "BIRTHPLACE": "{} {} NO".format(*rng.choice(_TOWNS)),
                "ADDRESS": f"{rng.choice(_STREETS)} {rng.randint(1, 120)}",
                "CITY": home.name,
                "STATE": home.county,
                "COUNTY": f"{home.name} kommune",
                "ZIP": home.zip,
                "LAT": f"{home.lat + rng.uniform(-0.05, 0.05):.6f}",
                "LON": f"{home.lon + rng.uniform(-0.05, 0.05):.6f}",
                "HEALTHCARE_EXPENSES": _money(pat.paid),
                "HEALTHCARE_COVERAGE": _money(pat.covered),
            }
        )

    def _coverage(self, pat: _Patient, name: str) -> None:
        rng = self.rng
        guardian = f"{self.name(female=rng.random() < 0.5)[0]} {name.split()[-1]}"
        start = _midnight(pat.born)
        while start < pat.limit:
            stop = min(pat.limit, start + timedelta(days=365 * rng.randint(2, 10)))
            payer = rng.choices(list(self.share), _PAYER_WEIGHTS)[0]
            pat.coverage.append((start, stop, payer))
            minor = pat.age(start) < 18
            self.rows["payer_transitions"].append(
                {
                    "PATIENT": pat.id,
                    "MEMBERID": self.uid(),
                    "START_YEAR": _ts(start),
                    "END_YEAR": _ts(stop),
                    "PAYER": payer,
                    "OWNERSHIP": "Guardian" if minor else "Self",
                    "OWNERNAME": guardian if minor else name,
                }
            )
            self.members[payer].add(pat.id)
            self.totals[payer, "MEMBER_MONTHS"] += (stop - start).days // 30
            start = stop

    def _visit(self, pat: _Patient, start: datetime, chronic: _Condition | None, *, first: bool) -> None:
        rng = self.rng
        kind = "ambulatory" if chronic else rng.choices(list(_CLASSES), [c.weight for c in _CLASSES.values()])[0]
        reason, cause = chronic, _CAUSE.get(kind)
        if cause and not chronic and (cause != "infection" or rng.random() < 0.8):
            reason = rng.choice(_GROUPS[cause])
        _, shortest, longest, cost, code, text = _CLASSES[kind]
        if kind == "wellness" and pat.age(start) < 18:
            code, text = _WELL_CHILD
        org = pat.gp if kind in ("wellness", "ambulatory", "outpatient") else pat.hospital
        doctor = rng.choice(self.staff[org["Id"]])
        stop = start + timedelta(minutes=rng.randint(shortest, longest), seconds=rng.randrange(60))
        payer = next(p for since, until, p in pat.coverage if since <= start < until)
        visit = _Visit(self.uid(), pat, start, stop, payer, reason, [_Code(code, text, float(cost))])
        row = {
            "Id": visit.id,
            "START": _ts(start),
            "STOP": _ts(stop),
            "PATIENT": pat.id,
            "ORGANIZATION": org["Id"],
            "PROVIDER": doctor["Id"],
            "PAYER": payer,
            "ENCOUNTERCLASS": kind,
            "CODE": code,
            "DESCRIPTION": text,
            "BASE_ENCOUNTER_COST": cost,
            "REASONCODE": reason.code if reason else "",
            "REASONDESCRIPTION": reason.display if reason else "",
        }
        self.rows["encounters"].append(row)
        self.count(payer, "ENCOUNTERS")
        if reason:
            self._treat(visit, reason)
        self._observe(visit, wellness=kind == "wellness")
        if kind == "wellness":
            self._prevent(visit)
        if first and rng.random() < 0.15:
            self._allergies(visit)
        total, covered = self._claim(visit, org, doctor, institutional=kind in ("inpatient", "emergency"))
        row |= {"TOTAL_CLAIM_COST": _money(total), "PAYER_COVERAGE": _money(covered)}
        self.totals[org["Id"], "UTILIZATION"] += 1
        self.totals[doctor["Id"], "UTILIZATION"] += 1
        self.totals[org["Id"], "REVENUE"] += total

    def _treat(self, visit: _Visit, cond: _Condition) -> None:
        rng, pat, start = self.rng, visit.patient, visit.start
        chronic = cond.group == "chronic"
        healed = None if chronic else min(start + timedelta(days=rng.randint(7, 30)), pat.limit)
        until = healed.date().isoformat() if healed else ""
        reason = {"REASONCODE": cond.code, "REASONDESCRIPTION": cond.display}
        self.add(
            "conditions", visit, START=start.date().isoformat(), STOP=until, CODE=cond.code, DESCRIPTION=cond.display
        )
        if chronic:
            pat.chronic.add(cond.code)
        if cond.drug:
            drug, share = _DRUGS[cond.drug], self.share[visit.payer]
            course = None if chronic else min(start + timedelta(days=14), pat.limit)
            dispenses = max(1, ((course or pat.limit) - start).days // 30)
            total = drug.cost * dispenses
            pat.paid, pat.covered = pat.paid + total * (1 - share), pat.covered + total * share
            self.count(visit.payer, "MEDICATIONS")
            self.add(
                "medications",
                visit,
                START=_ts(start),
                STOP=_ts(course) if course else "",
                PAYER=visit.payer,
                CODE=drug.code,
                DESCRIPTION=drug.display,
                BASE_COST=_money(drug.cost),
                PAYER_COVERAGE=_money(total * share),
                DISPENSES=str(dispenses),
                TOTALCOST=_money(total),
                **reason,
            )
        if cond.plan:
            self.add(
                "careplans",
                visit,
                Id=self.uid(),
                START=start.date().isoformat(),
                STOP=until,
                CODE=cond.plan,
                DESCRIPTION=_PLANS[cond.plan],
                **reason,
            )
        if cond.procedure:
            self._procedure(visit, cond.procedure, reason)
        if cond.code in _IMAGING:
            site, site_name, procedure = _IMAGING[cond.code]
            self._procedure(visit, procedure, reason)
            self.add(
                "imaging_studies",
                visit,
                Id=self.uid(),
                DATE=_ts(start),
                SERIES_UID=f"1.2.840.99999999.1.{rng.randrange(10**8)}.{int(start.timestamp())}000",
                BODYSITE_CODE=site,
                BODYSITE_DESCRIPTION=site_name,
                MODALITY_CODE="DX",
                MODALITY_DESCRIPTION="Digital Radiography",
                INSTANCE_UID=f"1.2.840.99999999.1.1.{rng.randrange(10**8)}.{rng.randrange(10**12)}",
                SOP_CODE="1.2.840.10008.5.1.4.1.1.1.1",
                SOP_DESCRIPTION="Digital X-Ray Image Storage",
                PROCEDURE_CODE=procedure,
            )
        if cond.procedure == "415070008":
            made = start - timedelta(days=rng.randint(30, 400))
            udi = (
                f"(01){rng.randrange(10**13, 10**14)}(11){made:%y%m%d}(17){made + timedelta(days=1826):%y%m%d}"
                f"(10){rng.randrange(10**9)}(21){rng.randrange(10**10)}"
            )
            self.add(
                "devices",
                visit,
                START=_ts(start),
                CODE="705643001",
                DESCRIPTION="Coronary artery stent (physical object)",
                UDI=udi,
            )
        if cond.code in _SUPPLIES:
            code, text = _SUPPLIES[cond.code]
            self.add(
                "supplies",
                visit,
                DATE=start.date().isoformat(),
                CODE=code,
                DESCRIPTION=text,
                QUANTITY=str(rng.randint(2, 100)),
            )

    def _procedure(self, visit: _Visit, code: str, reason: Row) -> None:
        proc = _PROCEDURES[code]
        stop = min(visit.stop, visit.start + timedelta(minutes=15))
        self.add(
            "procedures",
            visit,
            START=_ts(visit.start),
            STOP=_ts(stop),
            CODE=code,
            DESCRIPTION=proc.display,
            BASE_COST=_money(proc.cost),
            **reason,
        )
        visit.lines.append(proc)
        self.count(visit.payer, "PROCEDURES")

    def _measure(self, visit: _Visit, category: str, code: str, value: float) -> None:
        unit, _, _, text = _VITALS[code] if category == "vital-signs" else _LABS[code]
        self.add(
            "observations",
            visit,
            DATE=_ts(visit.start),
            CATEGORY=category,
            CODE=code,
            DESCRIPTION=text,
            VALUE=f"{value:.1f}",
            UNITS=unit,
            TYPE="numeric",
        )

    def _observe(self, visit: _Visit, *, wellness: bool) -> None:
        rng, pat = self.rng, visit.patient
        age = pat.age(visit.start)
        values = {code: rng.uniform(low, high) for code, (_, low, high, _) in _VITALS.items()}
        values["72514-3"] = float(rng.randint(0, 4))
        fever = visit.reason is not None and visit.reason.group in ("infection", "pneumonia")
        if fever:
            values["8310-5"] = rng.uniform(37.6, 39.6)
        measured = ["8480-6", "8462-4", "8310-5"] if fever else ["8480-6", "8462-4"]
        if wellness:
            height = pat.stature * min(1.0, 0.3 + age * 0.04)
            bmi = rng.uniform(19, 33) if age >= 18 else rng.uniform(14, 21)
            values |= {"8302-2": height, "29463-7": bmi * (height / 100) ** 2, "39156-5": bmi}
            measured = list(_VITALS)[:-1]
        for code in measured:
            self._measure(visit, "vital-signs", code, values[code])
        panels = {
            "metabolic": wellness and age >= 18 and rng.random() < 0.1,
            "diabetes": wellness and "44054006" in pat.chronic,
            "lipids": wellness and "55822004" in pat.chronic,
            "blood count": fever,
        }
        for code in (code for panel, wanted in panels.items() if wanted for code in _PANELS[panel]):
            _, low, high, _ = _LABS[code]
            self._measure(visit, "laboratory", code, rng.uniform(low, high))
        if wellness and age >= 18:
            self.add(
                "observations",
                visit,
                DATE=_ts(visit.start),
                CATEGORY="survey",
                CODE="72166-2",
                DESCRIPTION="Tobacco smoking status NHIS",
                VALUE=rng.choice(_SMOKING),
                TYPE="text",
            )

    def _prevent(self, visit: _Visit) -> None:
        rng, age = self.rng, visit.patient.age(visit.start)
        if rng.random() < 0.6:
            self._procedure(visit, rng.choice(_ROUTINE), {})
        if age >= 50 and rng.random() < 0.03:
            self._procedure(visit, "73761001", {})
        for code, cost, youngest, oldest, year, text in _VACCINES:
            if (
                float(youngest) <= age <= float(oldest)
                and visit.start.year >= int(year)
                and rng.random() < (0.3 if code == "140" else 0.1)
            ):
                self.add("immunizations", visit, DATE=_ts(visit.start), CODE=code, DESCRIPTION=text, BASE_COST=cost)
                visit.lines.append(_Code(code, text, float(cost)))
                self.count(visit.payer, "IMMUNIZATIONS")

    def _allergies(self, visit: _Visit) -> None:
        rng = self.rng
        for code, system, category, text in rng.sample(_ALLERGENS, rng.randint(1, 2)):
            row = {
                "START": visit.start.date().isoformat(),
                "CODE": code,
                "SYSTEM": system,
                "DESCRIPTION": text,
                "TYPE": "allergy",
                "CATEGORY": category,
            }
            for n, (reaction, name) in enumerate(rng.sample(_REACTIONS, rng.randint(1, 2)), start=1):
                row |= {
                    f"REACTION{n}": reaction,
                    f"DESCRIPTION{n}": name,
                    f"SEVERITY{n}": rng.choice(("MILD", "MODERATE", "SEVERE")),
                }
            self.add("allergies", visit, **row)

    def _claim(self, visit: _Visit, org: Row, doctor: Row, *, institutional: bool) -> tuple[float, float]:
        """Write the visit's claim; each line is charged, paid by the payer, and the rest by the patient."""
        rng, pat, share = self.rng, visit.patient, self.share[visit.payer]
        claim, diagnosis = self.uid(), visit.reason.code if visit.reason else ""
        start, stop = _ts(visit.start), _ts(visit.stop)
        department = str(self.rows["organizations"].index(org) + 1)
        self.rows["claims"].append(
            {
                "Id": claim,
                "PATIENTID": pat.id,
                "PROVIDERID": doctor["Id"],
                "PRIMARYPATIENTINSURANCEID": visit.payer,
                "SECONDARYPATIENTINSURANCEID": "0",
                "DEPARTMENTID": department,
                "PATIENTDEPARTMENTID": department,
                "DIAGNOSIS1": diagnosis,
                "APPOINTMENTID": visit.id,
                "CURRENTILLNESSDATE": start,
                "SERVICEDATE": start,
                "SUPERVISINGPROVIDERID": doctor["Id"],
                "STATUS1": "CLOSED",
                "STATUSP": "CLOSED",
                "OUTSTANDING1": "0",
                "OUTSTANDINGP": "0",
                "LASTBILLEDDATE1": stop,
                "LASTBILLEDDATEP": stop,
                "HEALTHCARECLAIMTYPEID1": "2" if institutional else "1",
                "HEALTHCARECLAIMTYPEID2": "0",
            }
        )
        common = {
            "CLAIMID": claim,
            "PATIENTID": pat.id,
            "FROMDATE": start,
            "TODATE": stop,
            "PLACEOFSERVICE": org["Id"],
            "DIAGNOSISREF1": "1" if diagnosis else "",
            "UNITS": "1",
            "DEPARTMENTID": department,
            "APPOINTMENTID": visit.id,
            "PATIENTINSURANCEID": pat.id,
            "FEESCHEDULEID": "1",
            "PROVIDERID": doctor["Id"],
            "SUPERVISINGPROVIDERID": doctor["Id"],
        }
        total = covered = 0.0
        steps: list[Row] = []
        for line in visit.lines:
            paid = round(line.cost * share, 2)
            rest, amount = _money(line.cost - paid), _money(line.cost)
            item = common | {"PROCEDURECODE": line.code, "NOTES": line.display}
            steps.append(item | {"TYPE": "CHARGE", "AMOUNT": amount, "UNITAMOUNT": amount})
            if share:
                steps.append(
                    item | {"TYPE": "PAYMENT", "METHOD": "ECHECK", "PAYMENTS": _money(paid), "OUTSTANDING": rest}
                )
            else:  # uninsured: the charge is transferred to the patient
                moved = item | {"TRANSFERS": rest, "OUTSTANDING": rest}
                steps.append(moved | {"TYPE": "TRANSFEROUT"})
                steps.append(
                    moved
                    | {"TYPE": "TRANSFERIN", "AMOUNT": rest, "TRANSFEROUTID": str(len(steps) - 1), "TRANSFERTYPE": "p"}
                )
            method = "COPAY" if share else rng.choice(("CASH", "CC", "CHECK"))
            steps.append(item | {"TYPE": "PAYMENT", "METHOD": method, "PAYMENTS": rest, "OUTSTANDING": "0.00"})
            total, covered = total + line.cost, covered + paid
        for number, step in enumerate(steps):
            self.rows["claims_transactions"].append({"ID": self.uid(), "CHARGEID": str(number), **step})
        pat.paid, pat.covered = pat.paid + total - covered, pat.covered + covered
        self.totals[visit.payer, "AMOUNT_COVERED"] += covered
        self.totals[visit.payer, "AMOUNT_UNCOVERED"] += total - covered
        return total, covered

    def finish(self) -> None:
        """Fill in the columns that sum over all patients."""
        for row in self.rows["organizations"] + self.rows["providers"]:
            row["UTILIZATION"] = str(int(self.totals[row["Id"], "UTILIZATION"]))
        for row in self.rows["organizations"]:
            row["REVENUE"] = _money(self.totals[row["Id"], "REVENUE"])
        for row in self.rows["payers"]:
            payer, members = row["Id"], len(self.members[row["Id"]])
            row.update({c: str(int(self.totals[payer, c])) for c in SYNTHEA_HEADERS["payers"][10:18]})
            row.update({c: _money(self.totals[payer, c]) for c in ("AMOUNT_COVERED", "AMOUNT_UNCOVERED")})
            row |= {
                "UNIQUE_CUSTOMERS": str(members),
                "MEMBER_MONTHS": str(int(self.totals[payer, "MEMBER_MONTHS"])),
                "QOLS_AVG": f"{self.rng.uniform(0.7, 0.95):.4f}" if members else "NaN",
            }


def write_demo_source(directory: Path, *, patients: int = 200, seed: int = 20261125) -> dict[str, int]:
    """Write the 18 Synthea-layout CSV files into directory (created if missing).

    The same ``patients`` and ``seed`` always give byte-identical files: UTF-8, comma-separated,
    one header row, LF line ends and RFC 4180 quoting. Existing files of the same names are replaced.

    Args:
        directory: Folder to write ``allergies.csv`` ... ``supplies.csv`` into.
        patients: Number of synthetic patients.
        seed: Seed for the random generator.

    Returns:
        Rows written per file name (header not counted), e.g. ``{"patients.csv": 200, ...}``.

    Raises:
        ValueError: If ``patients`` is negative.

    """
    if patients < 0:
        raise ValueError(f"patients must be zero or more, not {patients}")
    export = _Export(random.Random(seed))
    for _ in range(patients):
        export.add_patient()
    export.finish()
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, header in SYNTHEA_HEADERS.items():
        with (directory / f"{name}.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(export.rows[name])
        counts[f"{name}.csv"] = len(export.rows[name])
    return counts
