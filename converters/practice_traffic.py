"""The demo practice's message traffic (KITH files in meldinger/) and attachments (files in vedlegg/)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from converters import practice_files as pf
from converters import practice_messages as pm
from converters.practice_codes import DOCUMENT_KINDS, HOSPITALS, PRACTICE, Problem, Staff
from converters.practice_content import Content, Person

AddDocument = Callable[[int, int, str, str, str, date, str], None]
"""Adds a DOKUMENT row: (PASNR, KONTAKT_ID, file name, title, category, date, MIME type)."""

ICD10 = {
    "K78": ("I48", "Atrieflimmer og atrieflutter"),
    "R81": ("J18.9", "Pneumoni, uspesifisert"),
    "T90": ("E11.9", "Diabetes mellitus type 2 uten komplikasjoner"),
    "L03": ("M54.5", "Lumbago"),
    "P76": ("F32.9", "Depressiv episode, uspesifisert"),
    "K86": ("I10", "Essensiell hypertensjon"),
}
"""ICD-10 codes a hospital's discharge letter gives for some ICPC-2 problems."""


class Traffic:
    """Writes the message and attachment files of one practice, deterministically."""

    def __init__(self, folder: Path, rng: random.Random, add_document: AddDocument, *, flaws: bool) -> None:
        self.folder = folder
        self.rng = rng
        self.add_document = add_document
        self.flaws = flaws
        self.content = Content(rng)
        self.messages = 0
        self.attachments = 0
        self.practice = pm.Party(PRACTICE["NAVN"], PRACTICE["HERID"])
        self.hospital, self.hospital2, self.lab, self.nav, self.municipality = (
            pm.Party(name, her) for name, her in HOSPITALS
        )

    def uid(self) -> str:
        """Return a message id (a random UUID from the practice's generator)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4)).upper()

    def _write(self, direction: str, when: datetime, msg_id: str, data: bytes) -> None:
        self.messages += 1
        if self.flaws and self.messages % 499 == 0:
            data = data[: len(data) // 2]  # a transfer that broke off: not well-formed XML
        (self.folder / "meldinger" / direction / f"{when:%Y%m%d}_{msg_id}.xml").write_bytes(data)

    def contact(
        self,
        p: Person,
        kid: int,
        doctor: Staff,
        start: datetime,
        problem: Problem,
        labs: list[tuple[str, str, str, str, str, str]],
    ) -> None:
        """Maybe write messages and an attachment for one contact."""
        rng = self.rng
        patient = pm.MessagePatient(
            p.fnr, p.given, p.family, f"{p.born:%Y-%m-%d}", "2" if p.female else "1", p.d_number
        )
        gp = pm.Party(PRACTICE["NAVN"], PRACTICE["HERID"], f"{doctor.given} {doctor.family}", doctor.hpr)
        bad = self.flaws and rng.random() < 0.02
        if labs and rng.random() < 0.25:
            when = start + timedelta(days=1, hours=3)
            issued = f"{when:%Y-%m-%dT%H:%M:%S}"
            payload = pm.lab_payload(labs, issued=issued, lab=self.lab.name)
            msg_id = self.uid()
            data = pm.msghead(
                msg_type="SVAR_LAB", msg_id=msg_id, gen_date=issued, sender=self.lab, receiver=gp,
                patient=patient, payload=payload, bad_birth_date=bad,
            )  # fmt: skip
            self._write("inn", when, msg_id, data)
        roll = rng.random()
        if roll < 0.03:
            self._referral(patient, gp, start, problem, bad=bad)
        elif roll < 0.045:
            self._discharge(p, patient, gp, kid, start, problem)
        elif roll < 0.065:
            when = start + timedelta(hours=2)
            msg_id = self.uid()
            text = f"Til heimetenesta: {problem.text}. {problem.plan}"
            data = pm.msghead(
                msg_type="DIALOG_NOTAT", msg_id=msg_id, gen_date=f"{when:%Y-%m-%dT%H:%M:%S}", sender=gp,
                receiver=self.municipality, patient=patient,
                payload=pm.dialog_payload(text=text, doc_id=self.uid(), day=f"{when:%Y-%m-%d}"),
            )  # fmt: skip
            self._write("ut", when, msg_id, data)
        if rng.random() < 0.04:
            self._attachment(p, kid, doctor, start.date(), problem)

    def _referral(
        self, patient: pm.MessagePatient, gp: pm.Party, start: datetime, problem: Problem, *, bad: bool
    ) -> None:
        when = start + timedelta(minutes=30)
        issued = f"{when:%Y-%m-%dT%H:%M:%S}"
        msg_id = self.uid()
        to = self.hospital if self.rng.random() < 0.7 else self.hospital2
        payload = pm.referral_payload(
            code=problem.code, text=problem.text, reason=problem.subjective, issued=issued, to_service="Poliklinikk"
        )
        data = pm.msghead(
            msg_type="HENVISNING", msg_id=msg_id, gen_date=issued, sender=gp, receiver=to, patient=patient,
            payload=payload, bad_birth_date=bad,
        )  # fmt: skip
        self._write("ut", when, msg_id, data)
        back = when + timedelta(minutes=self.rng.randint(2, 90))
        receipt = self.uid()
        self._write(
            "inn",
            back,
            receipt,
            pm.apprec(
                msg_id=receipt,
                gen_date=f"{back:%Y-%m-%dT%H:%M:%S}",
                sender=to,
                receiver=self.practice,
                original=("HENVISNING", issued, msg_id),
            ),
        )

    def _discharge(
        self, p: Person, patient: pm.MessagePatient, gp: pm.Party, kid: int, start: datetime, problem: Problem
    ) -> None:
        rng = self.rng
        when = start + timedelta(days=rng.randint(3, 20), hours=2)
        issued = f"{when:%Y-%m-%dT%H:%M:%S}"
        code, text = ICD10.get(problem.code, ("R69", "Ukjente og uspesifiserte sykdomsårsaker"))
        summary = (
            f"Innlagt med {problem.text.lower()}. Utskrevet i god allmenntilstand. Videre oppfølging hos fastlege."
        )
        attachments: tuple[pm.Attachment, ...] = ()
        if rng.random() < 0.4:
            doc = pf.pdf("Epikrise", [f"Pasient: {p.given} {p.family}", f"Diagnose: {code} {text}", summary])
            attachments = (pm.Attachment("application/pdf", "Epikrise som PDF", doc),)
        msg_id = self.uid()
        data = pm.msghead(
            msg_type="EPIKRISE", msg_id=msg_id, gen_date=issued, sender=self.hospital, receiver=gp, patient=patient,
            payload=pm.discharge_payload(code=code, text=text, summary=summary, issued=issued),
            attachments=attachments,
        )  # fmt: skip
        self._write("inn", when, msg_id, data)

    def _attachment(self, p: Person, kid: int, doctor: Staff, day: date, problem: Problem) -> None:
        rng = self.rng
        suffix, mime, category, title = rng.choice(DOCUMENT_KINDS)
        if suffix == "doc" and day.year >= 2008:  # the practice stopped writing .doc letters
            suffix, mime, category, title = DOCUMENT_KINDS[2]
        self.attachments += 1
        name = f"D{self.attachments:07d}.{suffix.upper()}"
        letter_title, body = self.content.letter(problem, p, doctor)
        if suffix == "tif":
            data = pf.tiff(64, 32, rng.randbytes(64 * 32), description=f"Innskannet side {self.attachments}")
        elif suffix == "jpg":
            data = pf.jpeg(8, 6, comment=f"Fjordheim legesenter, bilde {self.attachments}")
        elif suffix == "rtf":
            data = pf.rtf(letter_title, body)
        elif suffix == "doc":
            data = pf.word_doc(letter_title + "\r" + body.replace("\n", "\r"))
        else:
            data = pf.pdf(letter_title, body.splitlines())
        (self.folder / "vedlegg" / name).write_bytes(data)
        self.add_document(p.pasnr, kid, name, title, category, day, mime)
