"""KITH XML messages of the demo practice: MsgHead v1.2 envelopes with their payloads, and AppRec 1.1.

The messages follow the shape of the public KITH examples (see DOMAIN.md §1): a ``MsgHead`` with
``MsgInfo`` (type, MIG version, time, id, sender, receiver, patient with fødselsnummer typed by
Volven 8116) and one ``Document`` with the payload, plus optional attachments as base64 in a
``Base64Container``. Payloads are simplified (the demo is not schema-valid in every detail, as
real traffic is not either); a ``bad_birth_date`` message carries ``DateOfBirth`` like "1991-12-4",
a deviation seen in real traffic.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

MSGHEAD_NS = "http://www.kith.no/xmlstds/msghead/2006-05-24"
NAMESPACES = {
    "SVAR_LAB": "http://www.kith.no/xmlstds/labsvar/2012-02-15",
    "HENVISNING": "http://www.kith.no/xmlstds/henvisning/2012-02-15",
    "EPIKRISE": "http://www.kith.no/xmlstds/epikrise/2012-02-15",
    "DIALOG_NOTAT": "http://www.kith.no/xmlstds/dialog/2013-01-23",
}
TYPE_NAMES = {
    "SVAR_LAB": "Svarrapport laboratoriemedisin",
    "HENVISNING": "Henvisning",
    "EPIKRISE": "Epikrise",
    "DIALOG_NOTAT": "Notat",
}


@dataclass(frozen=True)
class Party:
    """A sender or receiver organisation (name, HER-id) and optionally a person in it."""

    name: str
    her_id: str
    person: str = ""
    hpr: str = ""


@dataclass(frozen=True)
class MessagePatient:
    """The patient as the message names him or her."""

    fnr: str
    given: str
    family: str
    birth_date: str  # YYYY-MM-DD
    sex: str  # Volven 3101: 1 mann, 2 kvinne
    d_number: bool


@dataclass(frozen=True)
class Attachment:
    """A file sent inside the message."""

    mime_type: str
    description: str
    data: bytes


def _attr(name: str, value: str) -> str:
    return f" {name}={quoteattr(value)}"


def _party(tag: str, party: Party) -> str:
    person = ""
    if party.person:
        person = (
            f"<HealthcareProfessional><FamilyName>{escape(party.person.split()[-1])}</FamilyName>"
            f"<GivenName>{escape(' '.join(party.person.split()[:-1]))}</GivenName>"
            f'<Ident><Id>{party.hpr}</Id><TypeId V="HPR" S="2.16.578.1.12.4.1.1.8116" DN="HPR-nummer"/></Ident>'
            "</HealthcareProfessional>"
        )
    return (
        f"<{tag}><Organisation><OrganisationName>{escape(party.name)}</OrganisationName>"
        f'<Ident><Id>{party.her_id}</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" '
        f'DN="Identifikator fra Helsetjenesteenhetsregisteret (HER-id)"/></Ident>{person}</Organisation></{tag}>'
    )


def _patient(p: MessagePatient, *, bad_birth_date: bool) -> str:
    kind, text = ("DNR", "D-nummer") if p.d_number else ("FNR", "Fødselsnummer")
    born = p.birth_date
    if bad_birth_date:
        year, month, day = born.split("-")
        born = f"{year}-{int(month)}-{int(day)}"
    sex_text = "Mann" if p.sex == "1" else "Kvinne"
    return (
        f"<Patient><FamilyName>{escape(p.family)}</FamilyName><GivenName>{escape(p.given)}</GivenName>"
        f"<DateOfBirth>{born}</DateOfBirth><Sex{_attr('V', p.sex)}{_attr('DN', sex_text)}/>"
        f'<Ident><Id>{p.fnr}</Id><TypeId{_attr("V", kind)} S="2.16.578.1.12.4.1.1.8116"{_attr("DN", text)}/>'
        "</Ident></Patient>"
    )


def msghead(
    *,
    msg_type: str,
    msg_id: str,
    gen_date: str,
    sender: Party,
    receiver: Party,
    patient: MessagePatient,
    payload: str,
    conversation: str = "",
    attachments: tuple[Attachment, ...] = (),
    bad_birth_date: bool = False,
) -> bytes:
    """Return one MsgHead v1.2 message (UTF-8) with ``payload`` (an XML element) as its document."""
    ref = (
        f"<ConversationRef><RefToParent>{conversation}</RefToParent>"
        f"<RefToConversation>{conversation}</RefToConversation></ConversationRef>"
        if conversation
        else ""
    )
    docs = [
        f'<Document><RefDoc><IssueDate V="{gen_date}"/><MsgType V="XML" DN="XML-instans"/>'
        f"<Content>{payload}</Content></RefDoc></Document>"
    ]
    for a in attachments:
        data = base64.b64encode(a.data).decode("ascii")
        docs.append(
            f'<Document><RefDoc><MsgType V="A" DN="Vedlegg"/><MimeType>{a.mime_type}</MimeType>'
            f"<Description>{escape(a.description)}</Description><Content>"
            f'<Base64Container xmlns="http://www.kith.no/xmlstds/base64container">{data}</Base64Container>'
            "</Content></RefDoc></Document>"
        )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<MsgHead xmlns="{MSGHEAD_NS}">\n'
        f"<MsgInfo><Type{_attr('V', msg_type)}{_attr('DN', TYPE_NAMES[msg_type])}/>"
        f"<MIGversion>v1.2 2006-05-24</MIGversion><GenDate>{gen_date}</GenDate><MsgId>{msg_id}</MsgId>"
        f'{ref}<Ack V="J" DN="Ja"/>{_party("Sender", sender)}{_party("Receiver", receiver)}'
        f"{_patient(patient, bad_birth_date=bad_birth_date)}</MsgInfo>\n" + "\n".join(docs) + "\n</MsgHead>\n"
    )
    return text.encode("utf-8")


def lab_payload(results: list[tuple[str, str, str, str, str, str]], *, issued: str, lab: str) -> str:
    """Svarrapport 1.4 payload; ``results`` holds (NPU code, name, value, unit, reference text, flag)."""
    items = []
    for code, name, value, unit, ref, flag in results:
        dev = (
            f'<DevResultInd><DevResult V="{flag}" DN="{"Høy" if flag == "H" else "Lav"}"/></DevResultInd>'
            if flag
            else ""
        )
        items.append(
            '<ResultItem><ServType V="N" DN="Ny"/>'
            f'<Investigation><Id V="{code}" S="2.16.578.1.12.4.1.1.7280"{_attr("DN", name)}/></Investigation>'
            f'<ResultDate V="{issued}"/><NumResult><NumResultValue V="{value}"{_attr("U", unit)}/></NumResult>'
            f"<RefInterval><Descr>{escape(ref)}</Descr></RefInterval>{dev}</ResultItem>"
        )
    return (
        f'<Message xmlns="{NAMESPACES["SVAR_LAB"]}"><ServReport><ServType V="N" DN="Ny"/>'
        f'<IssueDate V="{issued}"/><Status V="F" DN="Endelig"/>'
        f"<ServProvider><HCP><Inst><Name>{escape(lab)}</Name></Inst></HCP></ServProvider>"
        + "".join(items)
        + "</ServReport></Message>"
    )


def referral_payload(*, code: str, text: str, reason: str, issued: str, to_service: str) -> str:
    """Henvisning 1.1 payload (simplified)."""
    return (
        f'<Message xmlns="{NAMESPACES["HENVISNING"]}"><ServReq><ServType V="N" DN="Ny"/>'
        f'<IssueDate V="{issued}"/><ReqServ><Id{_attr("DN", to_service)} V="1"/></ReqServ>'
        f"<Reason>{escape(reason)}</Reason>"
        f'<InfItem><Type V="DIAG" DN="Diagnose"/><Diagnosis><Concept V="{code}" S="2.16.578.1.12.4.1.1.7170"'
        f"{_attr('DN', text)}/></Diagnosis></InfItem></ServReq></Message>"
    )


def discharge_payload(*, code: str, text: str, summary: str, issued: str) -> str:
    """Epikrise 1.2 payload: the main diagnosis (ICD-10, Volven 7110) and the letter's text in one event."""
    return (
        f'<Message xmlns="{NAMESPACES["EPIKRISE"]}"><ServRprt><ServType V="N" DN="Ny"/>'
        f'<IssueDate V="{issued}"/><Event><InfItem><Type V="H" DN="Hoveddiagnose"/><Observation><CodedDescr>'
        f'<Concept V="{code}" S="2.16.578.1.12.4.1.1.7110"{_attr("DN", text)}/></CodedDescr></Observation>'
        f"</InfItem><Comment><Heading>Epikrise</Heading><TextResultValue>{escape(summary)}</TextResultValue>"
        "</Comment></Event></ServRprt></Message>"
    )


def dialog_payload(*, text: str, doc_id: str, day: str) -> str:
    """Dialogmelding 1.1 notat payload."""
    return (
        f'<Dialogmelding xmlns="{NAMESPACES["DIALOG_NOTAT"]}"><Notat>'
        '<TemaKodet V="6" S="2.16.578.1.12.4.1.1.7322" DN="Orientering"/>'
        f"<TekstNotatInnhold>{escape(text)}</TekstNotatInnhold><DokIdNotat>{doc_id}</DokIdNotat>"
        f"<DatoNotat>{day}</DatoNotat></Notat></Dialogmelding>"
    )


def apprec(*, msg_id: str, gen_date: str, sender: Party, receiver: Party, original: tuple[str, str, str]) -> bytes:
    """AppRec 1.1 (status OK) for the original message (type, issue time, id)."""
    o_type, o_date, o_id = original

    def hcp(role: str, text: str, party: Party) -> str:
        return (
            f'<Role V="{role}"{_attr("DN", text)}/><HCP><Inst><Name>{escape(party.name)}</Name>'
            f'<Id>{party.her_id}</Id><TypeId V="HER" DN="HER-id"/></Inst></HCP>'
        )

    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<AppRec xmlns="http://www.kith.no/xmlstds/apprec/2012-02-15">'
        '<MsgType V="APPREC" DN="Applikasjonskvittering"/><MIGversion>v1.1 2012-02-15</MIGversion>'
        f"<GenDate>{gen_date}</GenDate><Id>{msg_id}</Id>"
        f"<Sender>{hcp('PRIM', 'Primærmottaker', sender)}</Sender>"
        f"<Receiver>{hcp('AVS', 'Avsender', receiver)}</Receiver>"
        '<Status V="1" DN="OK"/>'
        f'<OriginalMsgId><MsgType V="{o_type}"{_attr("DN", TYPE_NAMES[o_type])}/>'
        f"<IssueDate>{o_date}</IssueDate><Id>{o_id}</Id></OriginalMsgId></AppRec>\n"
    )
    return text.encode("utf-8")
