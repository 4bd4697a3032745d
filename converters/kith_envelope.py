"""The envelopes of KITH messages: MsgHead, NAV's fellesformat, standalone messages, AppRec.

One file can hold one message (the usual case), a MsgHead inside NAV's ``EI_fellesformat``
wrapper, a MsgHead nested inside another MsgHead's content (the "double-wrapped" messages some
systems send), a standalone pre-MsgHead message (``Message`` root of Svarrapport, Epikrise or
Henvisning 1.x), an application receipt (``AppRec``), or a bare payload without any header (a
sykmelding as NAV stores it). :func:`find_envelopes` finds them all; the other functions read the
header, the patient and the documents of one envelope leniently (missing parts give None).
"""

from __future__ import annotations

from dataclasses import dataclass

from converters.kith_xml import Element, all_text, attr, coded, elements, first, kids, local, namespace, text, value

MSGHEAD_NS = "http://www.kith.no/xmlstds/msghead/2006-05-24"
FELLESFORMAT_NS = ("http://www.trygdeetaten.no/xml/eiff/1/", "http://www.nav.no/xml/eiff/2/")
BASE64_NS = "http://www.kith.no/xmlstds/base64container"
PERSON_ID_TYPES = ("FNR", "DNR", "HNR", "FHN", "DUF")
"""Kinds of patient identifier, in order of preference (Volven 8116)."""

BARE_ROOTS = {
    "HelseOpplysningerArbeidsuforhet": "SYKMELD",
    "Legeerklaring": "LEGEERKL",
    "Dialogmelding": "DIALOG",
    "Henvisning": "HENVISNING",
}
"""Payload roots that may stand alone in a file, with the message type they imply."""


@dataclass(frozen=True)
class Envelope:
    """One message found in a file.

    Attributes:
        element: the MsgHead, AppRec, standalone ``Message`` or bare payload root.
        kind: ``msghead``, ``apprec``, ``standalone``, ``bare`` or ``unknown``.
        wrapper: namespace of the fellesformat wrapper around it, if any.
        outer: the MsgHead whose content holds this one (double-wrapped messages), if any.
    """

    element: Element
    kind: str
    wrapper: str | None = None
    outer: Element | None = None


@dataclass(frozen=True)
class DocumentPart:
    """One ``Document/RefDoc`` of a MsgHead: XML payload elements or an attachment."""

    ref_doc: Element
    payloads: tuple[Element, ...]
    base64: Element | None
    file_reference: str | None
    msg_type: str | None
    mime_type: str | None
    description: str | None
    doc_id: str | None
    issue_date: str | None
    connection: str | None


def find_envelopes(root: Element) -> list[Envelope]:
    """Return every message in a parsed file, outer before inner, in document order."""
    wrapper = namespace(root) if local(root) == "EI_fellesformat" else None
    tops = list(elements(root)) if wrapper is not None else [root]
    found: list[Envelope] = []
    for el in tops:
        _collect(el, wrapper, None, found)
    if not found and wrapper is None:
        found.append(Envelope(root, "unknown"))
    return found


def _collect(el: Element, wrapper: str | None, outer: Element | None, found: list[Envelope]) -> None:
    name = local(el)
    if name == "MsgHead":
        found.append(Envelope(el, "msghead", wrapper, outer))
        for part in documents(el):
            for payload in part.payloads:
                if local(payload) == "MsgHead":
                    _collect(payload, wrapper, el, found)
    elif name == "AppRec":
        found.append(Envelope(el, "apprec", wrapper, outer))
    elif name == "Message" and "kith.no/xmlstds" in namespace(el):
        found.append(Envelope(el, "standalone", wrapper, outer))
    elif name in BARE_ROOTS:
        found.append(Envelope(el, "bare", wrapper, outer))


def _her_and_name(party: Element | None) -> dict[str, str | None]:
    """Read a MsgHead Sender/Receiver: organisation HER-id, name, org number, and the person in it."""
    org = first(party, "Organisation")
    out: dict[str, str | None] = {
        "her_id": None,
        "name": text(org, "OrganisationName"),
        "org_number": None,
        "person_name": None,
        "person_her_id": None,
        "person_hpr": None,
    }
    for ident in kids(org, "Ident"):
        kind = attr(ident, "V", "TypeId")
        if kind == "HER" and out["her_id"] is None:
            out["her_id"] = text(ident, "Id")
        elif kind == "ENH" and out["org_number"] is None:
            out["org_number"] = text(ident, "Id")
    person = first(org, "HealthcareProfessional")
    sub = first(org, "Organisation")
    if person is None and sub is not None:
        person = first(sub, "HealthcareProfessional")
    if person is not None:
        names = [text(person, p) for p in ("GivenName", "MiddleName", "FamilyName")]
        out["person_name"] = " ".join(n for n in names if n) or None
        for ident in kids(person, "Ident"):
            kind = attr(ident, "V", "TypeId")
            if kind == "HER" and out["person_her_id"] is None:
                out["person_her_id"] = text(ident, "Id")
            elif kind == "HPR" and out["person_hpr"] is None:
                out["person_hpr"] = text(ident, "Id")
    return out


def _hcp_party(hcp_holder: Element | None) -> dict[str, str | None]:
    """Read an old-style ``.../HCP/Inst`` party (standalone messages and AppRec)."""
    inst = first(hcp_holder, "HCP", "Inst")
    out: dict[str, str | None] = {
        "her_id": None,
        "name": text(inst, "Name"),
        "org_number": None,
        "person_name": text(inst, "HCPerson", "Name") or text(hcp_holder, "HCP", "HCProf", "Name"),
        "person_her_id": None,
        "person_hpr": None,
    }
    kind = attr(inst, "V", "TypeId")
    if kind == "HER":
        out["her_id"] = text(inst, "Id")
    elif kind == "ENH":
        out["org_number"] = text(inst, "Id")
    person = first(inst, "HCPerson")
    pkind = attr(person, "V", "TypeId")
    if pkind == "HER":
        out["person_her_id"] = text(person, "Id")
    elif pkind == "HPR":
        out["person_hpr"] = text(person, "Id")
    return out


def header(env: Envelope) -> dict[str, str | None]:
    """Return the message header of ``env``: id, type, version, date, parties, conversation refs."""
    el = env.element
    if env.kind == "msghead":
        info = first(el, "MsgInfo")
        code, _s, display, _ot = coded(info, "Type")
        sender, receiver = _her_and_name(first(info, "Sender")), _her_and_name(first(info, "Receiver"))
        conv = first(info, "ConversationRef")
        return {
            "msg_id": text(info, "MsgId"),
            "msg_type_code": code,
            "msg_type_display": display,
            "mig_version": text(info, "MIGversion"),
            "generated_at": value(info, "GenDate"),
            "ack": attr(info, "V", "Ack"),
            "conversation_ref": text(conv, "RefToConversation"),
            "parent_ref": text(conv, "RefToParent"),
            **{f"sender_{k}": v for k, v in sender.items()},
            **{f"receiver_{k}": v for k, v in receiver.items()},
        }
    if env.kind in ("standalone", "apprec"):
        code, _s, display, _ot = coded(el, "Type") if first(el, "Type") is not None else coded(el, "MsgType")
        report = _report(el)
        if env.kind == "apprec":
            sender, receiver = _hcp_party(first(el, "Sender")), _hcp_party(first(el, "Receiver"))
        elif local(report) == "ServReq" or "henvisning" in namespace(el):
            sender, receiver = _hcp_party(first(report, "Requester")), _hcp_party(first(report, "ServProvider"))
        else:
            sender, receiver = _hcp_party(first(report, "ServProvider")), _hcp_party(first(report, "Requester"))
        return {
            "msg_id": text(el, "MsgId") or text(el, "Id"),
            "msg_type_code": code,
            "msg_type_display": display,
            "mig_version": text(el, "MIGversion"),
            "generated_at": value(el, "GenDate"),
            "ack": None,
            "conversation_ref": None,
            "parent_ref": None,
            **{f"sender_{k}": v for k, v in sender.items()},
            **{f"receiver_{k}": v for k, v in receiver.items()},
        }
    return {"msg_type_code": BARE_ROOTS.get(local(el))}


def _report(message: Element) -> Element | None:
    """Return the body of a standalone message: ServReport (lab), ServRprt (epikrise) or ServReq."""
    for name in ("ServReport", "ServRprt", "ServReq"):
        found = first(message, name)
        if found is not None:
            return found
    return None


def patient(env: Envelope) -> tuple[Element, dict[str, str | None]] | None:
    """Return the patient element of ``env`` and its values, or None when the message names no patient."""
    el = env.element
    if env.kind == "msghead":
        pat = first(el, "MsgInfo", "Patient")
        return None if pat is None else (pat, _msghead_patient(pat))
    if env.kind == "standalone":
        pat = first(_report(el), "Patient")
        return None if pat is None else (pat, _standalone_patient(pat))
    if env.kind == "bare":
        return _bare_patient(el)
    return None


_Ident = tuple[str | None, str | None, str | None, str | None]


def _choose_ident(idents: list[_Ident]) -> _Ident:
    """Pick the best (id, type V, type S, type DN): a person number by preference order, else the first."""
    for kind in PERSON_ID_TYPES:
        for ident in idents:
            if ident[1] == kind and ident[0]:
                return ident
    return next((i for i in idents if i[0]), (None, None, None, None))


def _msghead_patient(pat: Element) -> dict[str, str | None]:
    idents = [
        (text(i, "Id"), attr(i, "V", "TypeId"), attr(i, "S", "TypeId"), attr(i, "DN", "TypeId"))
        for i in kids(pat, "Ident")
    ]
    key, kind, system, display = _choose_ident(idents)
    sex, _s, sex_dn, _ot = coded(pat, "Sex")
    adr = first(pat, "Address")
    county, _cs, county_dn, _cot = coded(adr, "County")
    return {
        "patient_key": key,
        "id_type_code": kind,
        "id_type_system": system,
        "id_type_display": display,
        "family_name": text(pat, "FamilyName"),
        "given_name": text(pat, "GivenName"),
        "middle_name": text(pat, "MiddleName"),
        "full_name": None,
        "birth_date": value(pat, "DateOfBirth"),
        "sex_code": sex,
        "sex_display": sex_dn,
        "street": text(adr, "StreetAdr"),
        "postal_code": text(adr, "PostalCode"),
        "city": text(adr, "City"),
        "county_code": county,
        "county_display": county_dn,
        "country": attr(adr, "V", "Country") or text(adr, "Country"),
    }


def _standalone_patient(pat: Element) -> dict[str, str | None]:
    sex, _s, sex_dn, _ot = coded(pat, "Sex")
    kind, system, display, _ot2 = coded(pat, "TypeOffId")
    adr = first(pat, "Address")
    return {
        "patient_key": text(pat, "OffId"),
        "id_type_code": kind,
        "id_type_system": system,
        "id_type_display": display,
        "family_name": None,
        "given_name": None,
        "middle_name": None,
        "full_name": text(pat, "Name"),
        "birth_date": value(pat, "DateOfBirth"),
        "sex_code": sex,
        "sex_display": sex_dn,
        "street": text(adr, "StreetAdr"),
        "postal_code": text(adr, "PostalCode"),
        "city": text(adr, "City"),
        "county_code": None,
        "county_display": None,
        "country": None,
    }


def _bare_patient(root: Element) -> tuple[Element, dict[str, str | None]] | None:
    pat = first(root, "Pasient")
    if pat is None:
        pat = first(root, "Pasientopplysninger", "Pasient")
    if pat is None:
        return None
    fnr = first(pat, "Fodselsnummer")
    kind, system, display, _ot = coded(fnr, "TypeId")
    key = text(fnr, "Id") or attr(pat, "fodselsnummer")
    adr = first(pat, "PersonAdr", "PostalAddress")
    return pat, {
        "patient_key": key,
        "id_type_code": kind,
        "id_type_system": system,
        "id_type_display": display,
        "family_name": text(pat, "Navn", "Etternavn"),
        "given_name": text(pat, "Navn", "Fornavn"),
        "middle_name": text(pat, "Navn", "Mellomnavn"),
        "full_name": None,
        "birth_date": None,
        "sex_code": None,
        "sex_display": None,
        "street": text(adr, "StreetAddress"),
        "postal_code": text(adr, "PostalCode"),
        "city": text(adr, "City"),
        "county_code": None,
        "county_display": None,
        "country": text(adr, "Country"),
    }


def documents(msghead: Element) -> list[DocumentPart]:
    """Return the ``Document/RefDoc`` parts of a MsgHead in order."""
    parts: list[DocumentPart] = []
    for doc in kids(msghead, "Document"):
        ref = first(doc, "RefDoc")
        if ref is None:
            continue
        content = first(ref, "Content")
        payloads: list[Element] = []
        b64: Element | None = None
        for c in elements(content) if content is not None else ():
            if local(c) == "Base64Container":
                b64 = b64 if b64 is not None else c
            else:
                payloads.append(c)
        parts.append(
            DocumentPart(
                ref_doc=ref,
                payloads=tuple(payloads),
                base64=b64,
                file_reference=all_text(first(ref, "FileReference")),
                msg_type=attr(ref, "V", "MsgType"),
                mime_type=text(ref, "MimeType"),
                description=text(ref, "Description"),
                doc_id=text(ref, "Id"),
                issue_date=value(ref, "IssueDate"),
                connection=attr(doc, "V", "DocumentConnection"),
            )
        )
    return parts


def payloads(env: Envelope) -> list[Element]:
    """Return the payload elements of ``env`` (MsgHead: the XML documents; otherwise the root itself)."""
    if env.kind == "msghead":
        return [p for part in documents(env.element) for p in part.payloads]
    if env.kind in ("standalone", "bare"):
        return [env.element]
    return []
