"""The text of the demo practice's journal notes (SOAP, in Norwegian bokmål) and the patient record they use."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from converters.practice_codes import MEASURES, PHONE_OPENINGS, Problem, Staff


@dataclass(frozen=True)
class Person:
    """A generated patient, as the rest of the generator needs him or her."""

    pasnr: int
    fnr: str
    given: str
    family: str
    born: date
    female: bool
    d_number: bool
    gp: Staff


_EXTRA_S = (
    "Har ikke prøvd noe behandling selv.",
    "Har brukt paracetamol med noe effekt.",
    "Ingen kjente allergier.",
    "Røyker ikke. Drikker lite alkohol.",
    "Jobber som sykepleier, mye skiftarbeid.",
    "Bor alene, god kontakt med datteren.",
    "Bekymret fordi søsteren hadde noe lignende.",
    "Sover dårlig på grunn av plagene.",
)
_FOLLOW_UP = (
    "Kontroll ved behov.",
    "Ny time om 2 uker.",
    "Kontakt legekontoret hvis ikke bedre i løpet av en uke.",
    "Årskontroll som vanlig.",
    "Følges opp på telefon om noen dager.",
)
_E_CONSULT = (
    "Svar på e-konsultasjon via helsenorge:",
    "E-konsultasjon. Pasienten skriver:",
)


class Content:
    """Writes note texts; every choice comes from the practice's random generator (deterministic)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def note(
        self,
        kind: str,
        problem: Problem,
        measures: dict[str, str],
        labs: list[tuple[str, str, str, str, str, str]],
        person: Person,
    ) -> str:
        """Return the note of one contact: four SOAP lines for a visit, a short paragraph otherwise."""
        rng = self.rng
        if kind == "T":
            return (
                f"{rng.choice(PHONE_OPENINGS)} {problem.text.lower()}. {problem.subjective} "
                f"{problem.plan} {rng.choice(_FOLLOW_UP)}"
            )
        if kind == "E":
            return f"{rng.choice(_E_CONSULT)} «{problem.subjective}»\n{problem.plan}"
        subjective = f"S: {problem.subjective} {rng.choice(_EXTRA_S)}"
        found = [problem.objective]
        if "BTS" in measures:
            found.append(f"BT {measures['BTS']}/{measures['BTD']} mmHg, puls {measures['PULS']}.")
        if "TEMP" in measures:
            found.append(f"Temp {measures['TEMP']} °C.")
        if "VEKT" in measures:
            found.append(f"Vekt {measures['VEKT']} {MEASURES['VEKT'].unit}.")
        if labs:
            found.append("Blodprøver: " + ", ".join(f"{name} {value.replace('.', ',')}" for _, name, value, *_ in labs))
        assessment = f"A: {problem.text} ({problem.code})."
        plan = f"P: {problem.plan} {rng.choice(_FOLLOW_UP)}"
        lines = [subjective, "O: " + " ".join(found), assessment, plan]
        if kind == "S":
            lines.insert(0, "Sykebesøk i hjemmet.")
        elif kind == "V":
            lines.insert(0, "Videokonsultasjon, god lyd og bilde.")
        if person.d_number:
            lines.append("Tolk ikke nødvendig, snakker godt norsk.")
        return "\n".join(lines)

    def letter(self, problem: Problem, person: Person, doctor: Staff) -> tuple[str, str]:
        """Return the title and body of a letter about ``problem`` to or about the patient."""
        title = f"Angående {person.given} {person.family} – {problem.text.lower()}"
        body = (
            f"Til rette vedkommende.\n{person.given} {person.family} er fulgt opp for {problem.text.lower()} "
            f"({problem.code}) ved Fjordheim legesenter.\n{problem.subjective}\n{problem.plan}\n"
            f"Med vennlig hilsen\n{doctor.given} {doctor.family}, {doctor.title.lower()}"
        )
        return title, body
