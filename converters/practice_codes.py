"""Word and code lists of the demo GP practice: names, places, ICPC-2, ATC, NPU, takster, note phrases.

Everything here is invented or public vocabulary. Codes are real public codes (ICPC-2, ATC, NPU as
used in the Norwegian laboratory code list NLK, normaltariff takst codes), but the display texts are
written for the demo and are not the official code-list texts; amounts are illustrative only.
"""

# ruff: noqa: E501  (tables of data: one record per line reads better than wrapped lines)
from __future__ import annotations

from typing import NamedTuple

ICPC2_OID = "2.16.578.1.12.4.1.1.7170"
NLK_OID = "2.16.578.1.12.4.1.1.7280"
ATC_OID = "2.16.578.1.12.4.1.1.7180"


def words(text: str) -> tuple[str, ...]:
    """Return the whitespace-separated words of ``text``."""
    return tuple(text.split())


def rows(text: str) -> tuple[tuple[str, ...], ...]:
    """Return the ``|``-separated fields of each non-empty line of ``text``."""
    return tuple(tuple(line.split("|")) for line in text.strip().splitlines())


FEMALE = words("""
Åse Åshild Bjørg Sølvi Frøydis Ingrid Kari Solveig Sigrid Marit Ragnhild Kjersti Nora Ida Thea Hege
Liv Astrid Tone Gunnhild Mari Signe Ørnhild Bodil Ellinor Tuva Maja Emma Sofie Kristin
""")
MALE = words("""
Bjørn Øyvind Ørjan Håkon Pål Jørgen Ståle Åsmund Kåre Lars Ole Per Knut Magnus Sindre Eirik Trond
Geir Even Tor Halvard Steinar Torbjørn Jens Anders Sverre Kjetil Aksel Henrik Mathias
""")
SURNAMES = words("""
Sæther Løvås Bråten Sørensen Ødegård Økland Strøm Næss Særheim Kråkenes Hansen Johansen Olsen
Larsen Andersen Pedersen Nilsen Berg Haugen Bakke Lie Dahl Lund Moen Solberg Fjeld Holm Grønnæs Bøe
Høgås Skår Åsheim Tønnessen Sjøberg Bjørnstad Rønning Mæland Kvåle Frøland Lyngstad
""")
STREETS = words("""
Storgata Kirkegata Skolevegen Bjørkeveien Fjellveien Sjøgata Løkkeveien Solbakken Granåsen
Rådhusgata Tårnveien Ekornveien Fossveien Møllevegen Bærstien Åsveien Kløvervegen Høgskoleveien
""")


class Place(NamedTuple):
    """A postal place with its municipality number."""

    postcode: str
    town: str
    municipality: str


PLACES = tuple(
    Place(*r)
    for r in rows("""
6800|FØRDE|4647
6801|FØRDE|4647
6817|NAUSTDAL|4648
6819|FØRDE|4647
6823|SANDANE|4649
6900|FLORØ|4602
6953|LAVIK|4636
6977|BYGSTAD|4647
6973|SANDE I SUNNFJORD|4647
6847|VASSENDEN|4647
""")
)


class Staff(NamedTuple):
    """A user of the practice's system (practitioner or secretary)."""

    staff_id: int
    hpr: str
    given: str
    family: str
    title: str
    role: str


STAFF = (
    Staff(1, "9144889", "Åsmund", "Kråkenes", "Spesialist i allmennmedisin", "LEGE"),
    Staff(2, "9144897", "Ingrid", "Sæther", "Spesialist i allmennmedisin", "LEGE"),
    Staff(3, "9144900", "Håkon", "Bjørnstad", "Lege", "LEGE"),
    Staff(4, "9144918", "Sølvi", "Økland", "Lege i spesialisering (LIS1)", "LEGE"),
    Staff(5, "", "Bodil", "Løvås", "Helsesekretær", "SEKRETÆR"),
    Staff(6, "9144926", "Frøydis", "Mæland", "Sykepleier", "SYKEPLEIER"),
)
DOCTORS = tuple(s for s in STAFF if s.role == "LEGE")

PRACTICE = {
    "PRAKSIS_ID": "1",
    "NAVN": "Fjordheim legesenter",
    "ORGNR": "999888777",
    "HERID": "8765432",
    "ADRESSE": "Storgata 12",
    "POSTNR": "6800",
    "POSTSTED": "FØRDE",
    "TLF": "57 00 00 00",
}
"""The demo practice itself (invented numbers)."""


class Problem(NamedTuple):
    """An ICPC-2 problem with what the notes say about it."""

    code: str
    text: str
    weight: int
    chronic: bool
    subjective: str
    objective: str
    plan: str
    drug: str  # ATC code of the usual drug, "" for none
    labs: str  # space-separated NPU codes ordered for it


PROBLEMS = tuple(
    Problem(c, t, int(w), ch == "J", s, o, p, d, lab)
    for c, t, w, ch, s, o, p, d, lab in rows("""
R74|Akutt øvre luftveisinfeksjon|14|N|Sår hals, tett nese og hoste i tre dager. Føler seg slapp.|Rødme i svelget, ingen belegg. Lungene er normale ved auskultasjon.|Råd om væske og hvile. Ny time ved forverring.||NPU19748
R81|Lungebetennelse|3|N|Høy feber og tungpust siden i går, hoste med gulgrønt oppspytt.|Knatrelyder basalt høyre side. SpO2 94 %.|Fenoksymetylpenicillin i 7 dager. Kontroll om to dager.|J01CE02|NPU19748 NPU02593
K86|Hypertensjon ukomplisert|10|J|Kommer til kontroll av blodtrykket. Ingen brystsmerter, ingen hodepine.|Blodtrykket målt to ganger i hvile.|Fortsetter med ramipril. Årskontroll med blodprøver.|C09AA05|NPU18016 NPU03429 NPU03230
T90|Diabetes type 2|7|J|Årskontroll diabetes. Følger kostrådene stort sett, går tur daglig.|Føttene undersøkt: god følelse, ingen sår. Vekt målt.|Fortsetter med metformin. Henvist til øyelege for netthinnefotografering.|A10BA02|NPU27300 NPU18016 NPU01566
L03|Korsryggsymptomer/plager|8|N|Vondt i korsryggen etter løft i helgen, ingen utstråling til bena.|Nedsatt bevegelighet, øm paravertebralt. Lasègue negativ bilateralt.|Råd om å holde seg i aktivitet. Paracetamol ved behov. Sykmeldt tre dager.|N02BE01|
P76|Depressiv lidelse|5|J|Nedstemt i flere uker, søvnvansker og redusert matlyst. Ingen selvmordstanker.|Flat affekt, god kontakt. Sammenhengende tankegang.|Samtale, oppstart sertralin. Ny time om to uker.|N06AB06|NPU03577
P74|Angstlidelse|4|N|Urolig og anspent, hjertebank i perioder. Bekymrer seg mye for jobben.|Rolig ved samtalen. Normal puls og blodtrykk.|Samtaleterapi, henvist til psykolog i kommunen.||
U71|Cystitt/urinveisinfeksjon|6|N|Svie ved vannlating og hyppig trang i to døgn. Ingen feber.|Urinstiks: leukocytter og nitritt positiv.|Pivmecillinam i tre dager.|J01CA08|
S88|Kontakteksem/annet eksem|4|N|Kløende utslett på hendene etter rengjøring på jobben.|Tørr, rød hud med små sprekker på håndryggene.|Mild steroidkrem og fuktighetskrem. Bruke hansker.||
H71|Akutt mellomørebetennelse|4|N|Øresmerter høyre side og feber siden natt til i dag.|Rødt og bulende trommehinne høyre øre.|Smertestillende. Antibiotika hvis ikke bedre om to døgn.|N02BE01|
N01|Hodepine|4|N|Hodepine i pannen de siste ukene, verst om ettermiddagen.|Normal nevrologisk undersøkelse. Blodtrykket normalt.|Råd om søvn, væske og pauser fra skjermen.||
R96|Astma|4|J|Tungpust ved anstrengelse og i kald luft. Bruker inhalator av og til.|Lette pipelyder ved forsert ekspirasjon. PEF 380.|Fortsetter med salbutamol ved behov, legger til budesonid.|R03AC02|
K78|Atrieflimmer/-flutter|2|J|Hjertebank og uregelmessig puls, økt tretthet.|Uregelmessig rytme, EKG viser atrieflimmer.|Oppstart rivaroksaban og metoprolol. Henvist til kardiolog.|B01AF01|NPU01685 NPU18016
D73|Gastroenteritt antatt infeksiøs|4|N|Oppkast og løs avføring siden i går. Får i seg væske.|Bløt buk, lett ømhet diffust. God allmenntilstand.|Råd om væske. Tilbake ved tegn på uttørking.||
L92|Skuldersyndrom|3|N|Vondt i høyre skulder ved løft over hodet i flere uker.|Smertefull bue mellom 70 og 120 grader.|Henvist til fysioterapeut. Ibuprofen ved behov.|M01AE01|
A98|Helsefremmende tiltak/forebygging|5|N|Ønsker en helsesjekk. Ingen plager.|Normal undersøkelse. Blodtrykk og vekt målt.|Blodprøver tatt. Råd om fysisk aktivitet og kosthold.||NPU01566 NPU27300
T93|Lipidforstyrrelse|4|J|Kontroll av kolesterol. Ingen bivirkninger av statin.|Ingen funn.|Fortsetter med simvastatin.|C10AA01|NPU01566 NPU19651
T86|Hypotyreose/myksødem|2|J|Kontroll av stoffskiftet. Føler seg bedre, mindre sliten.|Normal puls og hud.|Fortsetter med levotyroksin, samme dose.|H03AA01|NPU03577
""")
)


class Drug(NamedTuple):
    """A drug on the medication list (ATC and a product name as the practice wrote it)."""

    atc: str
    product: str
    strength: str
    dosage: str


DRUGS = {
    d[0]: Drug(*d)
    for d in rows("""
C09AA05|Ramipril|5 mg|1 tablett om morgenen
C07AB02|Metoprolol depot|50 mg|1 tablett daglig
C10AA01|Simvastatin|20 mg|1 tablett om kvelden
A10BA02|Metformin|500 mg|1 tablett to ganger daglig til måltid
N06AB06|Sertralin|50 mg|1 tablett om morgenen
R03AC02|Salbutamol inhalasjonspulver|0,2 mg/dose|1-2 inhalasjoner ved behov
R03BA02|Budesonid inhalasjonspulver|200 mikrog/dose|1 inhalasjon morgen og kveld
J01CE02|Fenoksymetylpenicillin|1 g|1 tablett fire ganger daglig i 7 dager
J01CA08|Pivmecillinam|200 mg|1 tablett tre ganger daglig i 3 dager
N02BE01|Paracetamol|500 mg|2 tabletter inntil fire ganger daglig ved behov
M01AE01|Ibuprofen|400 mg|1 tablett inntil tre ganger daglig ved behov
B01AF01|Rivaroksaban|20 mg|1 tablett daglig til kveldsmåltid
H03AA01|Levotyroksin|50 mikrog|1 tablett om morgenen på tom mage
""")
}


class Analysis(NamedTuple):
    """A laboratory analysis (NPU code as in NLK) with a plausible result range."""

    code: str
    name: str
    unit: str
    low: float
    high: float
    spread_low: float
    spread_high: float
    decimals: int


ANALYSES = {
    a[0]: Analysis(a[0], a[1], a[2], float(a[3]), float(a[4]), float(a[5]), float(a[6]), int(a[7]))
    for a in rows("""
NPU19748|P-CRP|mg/L|0|5|0|120|0
NPU02593|B-Leukocytter|10*9/L|3.5|11|2.5|19|1
NPU27300|B-HbA1c|mmol/mol|20|42|30|90|0
NPU18016|P-Kreatinin|µmol/L|45|105|40|160|0
NPU03429|P-Natrium|mmol/L|137|145|130|149|0
NPU03230|P-Kalium|mmol/L|3.5|4.4|3.0|5.4|1
NPU01566|P-Kolesterol|mmol/L|2.9|6.1|3.0|8.5|1
NPU03577|P-TSH|mIE/L|0.5|3.6|0.2|9.0|2
NPU01685|P-INR||0.8|1.2|0.9|3.5|1
NPU19651|P-ALAT|U/L|10|70|8|120|0
""")
}


class Measure(NamedTuple):
    """A measurement type of the practice's own (local) code list."""

    code: str
    name: str
    unit: str
    low: float
    high: float
    decimals: int


MEASURES = {
    m[0]: Measure(m[0], m[1], m[2], float(m[3]), float(m[4]), int(m[5]))
    for m in rows("""
BTS|Blodtrykk systolisk|mmHg|105|175|0
BTD|Blodtrykk diastolisk|mmHg|60|105|0
PULS|Puls|/min|52|104|0
VEKT|Vekt|kg|48|125|1
HOYDE|Høyde|cm|150|198|0
TEMP|Temperatur|°C|36.1|39.8|1
SPO2|Oksygenmetning|%|91|100|0
""")
}

VACCINES = rows("""
J07BB02|Influensavaksine|1
J07AL02|Pneumokokkvaksine, konjugert|1
J07BN01|Covid-19-vaksine, mRNA|3
J07AM51|Difteri-tetanusvaksine|1
J07BC02|Hepatitt A-vaksine|2
J07BD52|Meslinger-kusma-røde hunder-vaksine|2
""")
"""ATC code, name, doses in a course."""

CAVE_AGENTS = rows("""
LEGEMIDDEL|Penicillin|J01CE
LEGEMIDDEL|Sulfametoksazol og trimetoprim|J01EE01
LEGEMIDDEL|Acetylsalisylsyre|N02BA01
LEGEMIDDEL|Kodein|R05DA04
ALLERGI|Nøtter|
ALLERGI|Lateks|
ANNET|Pacemaker – MR-undersøkelse kun etter avklaring|
""")
"""Kind, agent, ATC."""

REACTIONS = words("Utslett Urtikaria Anafylaksi Angioødem Kvalme Tungpust Kløe")
SEVERITY = ("Lett", "Moderat", "Alvorlig", "Livstruende")

TARIFFS = rows("""
2ad|Konsultasjon hos allmennlege|183.00
2cd|Tillegg for konsultasjon ved spesialist i allmennmedisin|96.00
1ad|Enkel pasientkontakt ved oppmøte|70.00
1bd|Enkel pasientkontakt ved telefon eller e-kontakt|70.00
2ae|Konsultasjon ved e-konsultasjon|183.00
11ad|Sykebesøk|415.00
701a|Taking av blodprøve|54.00
705b|Analyse av CRP på eget laboratorium|78.00
""")
"""Takst code, text, illustrative fee (NOK)."""

CONTACT_KINDS = ("O", "T", "E", "S", "V")
"""Contact types: oppmøte, telefon, e-konsultasjon, sykebesøk, video."""
CONTACT_WEIGHTS = (70, 18, 8, 2, 2)
CONTACT_TEXTS = {"O": "Oppmøte", "T": "Telefon", "E": "E-konsultasjon", "S": "Sykebesøk", "V": "Video"}
NOTE_TYPES = {"O": "KONS", "T": "TLF", "E": "EKONS", "S": "SYKEBESØK", "V": "VIDEO"}
NOTE_HEADINGS = {
    "KONS": "Konsultasjon",
    "TLF": "Telefonnotat",
    "EKONS": "E-konsultasjon",
    "SYKEBESØK": "Sykebesøk",
    "VIDEO": "Videokonsultasjon",
}

PHONE_OPENINGS = (
    "Ringer om",
    "Pasienten ringer angående",
    "Pårørende ringer om",
    "Spør på telefon om",
)
DOCUMENT_KINDS = rows("""
tif|image/tiff|INNSKANNET|Innskannet brev fra spesialist
jpg|image/jpeg|BILDE|Foto av hudforandring
rtf|application/rtf|BREV UT|Brev til pasient
doc|application/msword|BREV UT|Henvisning (gammelt brevformat)
pdf|application/pdf|BREV INN|Epikrise fra sykehus
""")
"""Suffix, MIME type, category, title."""

HOSPITALS = rows("""
Helse Førde HF, Førde sentralsjukehus|81234
Helse Bergen HF, Haukeland universitetssjukehus|82345
Sentrallaboratoriet Sunnfjord|83456
NAV Sunnfjord|84567
Sunnfjord kommune, heimetenesta|85678
""")
"""Name and (invented) HER-id of the practice's partners."""
