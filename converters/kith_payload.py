"""Payloads of KITH messages, read into records of the KITH reader's virtual tables.

Each supported payload kind (recognised by its namespace, whatever its version) has one function
that turns the payload element into :class:`Record` objects: notes, diagnoses, lab results,
referrals and certificates. Values stay verbatim; dates and decimal-comma numbers get a
normalised twin column (``*_utc``, ``*_numeric``) for the mapping. Anything a function does not
understand is left in the message's original XML, which is always kept byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from converters.kith_values import decimal_text, normalise_date, normalise_timestamp, reference_interval
from converters.kith_xml import (
    Element,
    all_text,
    attr,
    coded,
    descendants,
    elements,
    first,
    has_markup,
    inner_markup,
    kids,
    local,
    namespace,
    text,
    value,
)

Values = dict[str, str | None]


@dataclass(frozen=True)
class Record:
    """One record for virtual table ``table``; ``element`` locates it in the file (for its ref)."""

    table: str
    element: Element
    values: Values


PAYLOAD_KINDS: tuple[tuple[str, str], ...] = (
    ("/msghead/", "msghead"),
    ("/dialog/", "dialogmelding"),
    ("/epikrise", "epikrise"),
    ("/henvisning/", "henvisning"),
    ("/labsvar/", "svarrapport"),
    ("/HelseOpplysningerArbeidsuforhet/", "sykmelding"),
    ("/legeerklaring/", "legeerklaering"),
)
"""Namespace fragment -> payload kind. Versions are told apart by the namespace date, kept verbatim."""


def payload_kind(element: Element) -> str | None:
    """Return the kind of a payload element from its namespace (None: not a payload this reader knows)."""
    ns = namespace(element)
    for fragment, kind in PAYLOAD_KINDS:
        if fragment in ns:
            return kind
    return None


def _text_values(el: Element | None) -> Values:
    """Return text, text_format and text_raw for a free-text element (plain text or XHTML)."""
    if el is None:
        return {"text": None, "text_format": None, "text_raw": None}
    if has_markup(el):
        return {"text": all_text(el), "text_format": "html", "text_raw": inner_markup(el)}
    return {"text": text(el), "text_format": "plain", "text_raw": None}


def _note(el: Element, kind: str, heading: Element | None, body: Element | None, **extra: str | None) -> Record:
    code, system, display, original = coded(heading)
    written = extra.pop("written_at", None)
    return Record(
        "kith_note",
        el,
        {
            "note_kind": kind,
            "heading_code": code,
            "heading_system": system,
            "heading_display": display or original or (text(heading) if heading is not None else None),
            **_text_values(body),
            "written_at": written,
            "written_at_utc": normalise_timestamp(written),
            **extra,
        },
    )


def _diagnosis(el: Element, concept: Element | None, kind: str, role: str | None) -> Record | None:
    code, system, display, original = coded(concept)
    if code is None and original is None:
        return None
    return Record(
        "kith_diagnosis",
        el,
        {
            "source_kind": kind,
            "code": code,
            "system": system,
            "display": display,
            "original_text": original,
            "role": role,
        },
    )


def dialogmelding(root: Element) -> list[Record]:
    """Dialogmelding 1.0/1.1: every ``Notat`` and every ``Foresporsel`` becomes a note."""
    out: list[Record] = []
    for notat in descendants(root, "Notat"):
        tema = first(notat, "TemaKodet")
        if tema is None:
            tema = first(notat, "Tema")
        out.append(
            _note(
                notat,
                "dialog_notat",
                tema,
                first(notat, "TekstNotatInnhold"),
                written_at=value(notat, "DatoNotat"),
                doc_id=text(notat, "DokIdNotat"),
            )
        )
    for q in descendants(root, "Foresporsel"):
        out.append(
            _note(
                q,
                "dialog_foresporsel",
                first(q, "TypeForesp"),
                first(q, "Sporsmal"),
                written_at=None,
                doc_id=text(q, "DokIdForesp"),
            )
        )
    return out


def _infitems(holder: Element | None, kind: str) -> list[Record]:
    """KITH ``InfItem``: a coded diagnosis (Type H/B/...) or a text observation with its type as heading."""
    out: list[Record] = []
    for item in kids(holder, "InfItem"):
        item_type = first(item, "Type")
        concept = first(item, "Observation", "CodedDescr", "Concept")
        if concept is not None:
            role = {"H": "main", "B": "secondary"}.get(attr(item_type, "V") or "", attr(item_type, "DN"))
            diag = _diagnosis(item, concept, kind, role)
            if diag is not None:
                out.append(diag)
            continue
        descr = first(item, "Observation", "Description")
        if descr is not None:
            body = first(descr, "div") if first(descr, "div") is not None else descr
            out.append(_note(item, f"{kind}_infitem", item_type, body, doc_id=None))
        med = first(item, "Medication")
        if med is not None:
            out.append(_note(med, f"{kind}_medication", item_type, first(med, "DosageText"), doc_id=None))
    return out


def epikrise(root: Element) -> list[Record]:
    """Epikrise 1.x: text sections (``Comment``), observations and diagnoses (``InfItem``)."""
    report = first(root, "ServRprt")
    out: list[Record] = []
    issued = value(report, "IssueDate")
    for event in kids(report, "Event"):
        out.extend(_infitems(event, "epikrise"))
        for comment in kids(event, "Comment"):
            tv = first(comment, "TextResultValue")
            body = first(tv, "div") if tv is not None and first(tv, "div") is not None else tv
            out.append(
                _note(comment, "epikrise_section", first(comment, "Heading"), body, written_at=issued, doc_id=None)
            )
    for diag in kids(first(report, "ServReq"), "Diagnosis"):
        rec = _diagnosis(diag, first(diag, "Concept"), "epikrise_referral", "referral")
        if rec is not None:
            out.append(rec)
    return out


def henvisning(root: Element) -> list[Record]:
    """Henvisning 1.0/1.1 (``Message/ServReq``) and 2.0 (``Henvisning``): one referral plus its parts."""
    req = first(root, "ServReq") if local(root) == "Message" else root
    if req is None:
        return []
    sections: list[str] = []
    out: list[Record] = []
    for reason in kids(req, "ReasonAsText"):
        heading = first(reason, "Heading")
        body = all_text(first(reason, "TextResultValue"))
        label = attr(heading, "DN") or attr(heading, "V")
        if body:
            sections.append(f"{label}: {body}" if label else body)
        out.append(_note(reason, "henvisning_reason", heading, first(reason, "TextResultValue"), doc_id=None))
    patient_el = first(req, "Patient")
    out.extend(_infitems(patient_el if patient_el is not None else req, "henvisning"))
    diagnoses = kids(req, "Diagnosis")
    for diag in diagnoses:
        rec = _diagnosis(diag, first(diag, "Concept"), "henvisning", "referral")
        if rec is not None:
            out.append(rec)
    dcode, dsys, ddisp, dot = coded(diagnoses[0], "Concept") if diagnoses else (None, None, None, None)
    ucode, usys, udisp, _u = coded(req, "ReqServ", "Priority")
    rcode, rsys, rdisp, _r = coded(req, "MsgDescr")
    provider = first(req, "ServProvider", "HCP", "Inst")
    issued = value(req, "IssueDate")
    out.insert(
        0,
        Record(
            "kith_referral",
            req,
            {
                "referral_id": text(req, "Id") or text(req, "DocumentId"),
                "service_type": attr(req, "DN", "ServType") or attr(req, "V", "ServType"),
                "issued_at": issued,
                "issued_at_utc": normalise_timestamp(issued),
                "recipient_name": text(provider, "Name"),
                "recipient_her_id": text(provider, "Id") if attr(provider, "V", "TypeId") == "HER" else None,
                "urgency_code": ucode,
                "urgency_system": usys,
                "urgency_display": udisp,
                "reason_code": rcode,
                "reason_system": rsys,
                "reason_display": rdisp or text(req, "MsgDescr"),
                "diagnosis_code": dcode,
                "diagnosis_system": dsys,
                "diagnosis_display": ddisp or dot,
                "text": "\n\n".join(sections) or None,
            },
        ),
    )
    return out


def _result_item(item: Element, report: Element, subjects: dict[str, Element]) -> Record:
    num = first(item, "NumResult", "NumResultValue")
    text_result = first(item, "TextResult", "Result")
    raw_value = attr(num, "V") if num is not None else all_text(text_result)
    ref_text = all_text(first(item, "RefInterval", "Descr"))
    low, high = reference_interval(ref_text)
    if low is None and high is None:
        low = decimal_text(attr(item, "V", "RefInterval", "Low"))
        high = decimal_text(attr(item, "V", "RefInterval", "High"))
    code, system, display, original = coded(item, "Investigation", "Id")
    flag_code, flag_sys, flag_disp, _f = coded(item, "DevResultInd")
    status_code, _ss, status_disp, _so = coded(item, "StatusInvestigation")
    subject = subjects.get(text(item, "RefAnalysedSubject") or "")
    mat_code, mat_sys, mat_disp, _m = coded(subject, "TypeCoded")
    observed = value(subject, "CollectedSample", "CollectedDate") or value(item, "DateResult")
    provider = first(report, "ServProvider", "HCP", "Inst")
    return Record(
        "kith_lab_result",
        item,
        {
            "report_id": text(report, "ServProvId"),
            "result_id": text(item, "IdResultItem"),
            "analysis_code": code,
            "analysis_system": system,
            "analysis_display": display,
            "analysis_original_text": original or text(item, "Investigation", "Spec"),
            "value_text": raw_value,
            "value_numeric": decimal_text(raw_value),
            "unit": attr(num, "U"),
            "reference_text": ref_text,
            "reference_low": low,
            "reference_high": high,
            "flag_code": flag_code,
            "flag_system": flag_sys,
            "flag_display": flag_disp,
            "material_code": mat_code,
            "material_system": mat_sys,
            "material_display": mat_disp,
            "observed_at": observed,
            "observed_at_utc": normalise_timestamp(observed),
            "status_code": status_code,
            "status_display": status_disp,
            "comment": all_text(first(item, "Comment")),
            "lab_name": text(provider, "Name"),
            "lab_her_id": text(provider, "Id") if attr(provider, "V", "TypeId") == "HER" else None,
        },
    )


def svarrapport(root: Element) -> list[Record]:
    """Svarrapport 1.2-1.4: every ``ResultItem`` (also nested ones) becomes a lab result."""
    out: list[Record] = []
    for report in kids(root, "ServReport"):
        subjects: dict[str, Element] = {}
        for subject in descendants(report, "AnalysedSubject"):
            key = text(subject, "IdByServProvider")
            if key is not None:
                subjects.setdefault(key, subject)
        out.extend(_result_item(item, report, subjects) for item in descendants(report, "ResultItem"))
    return out


def sykmelding(root: Element) -> list[Record]:
    """Sykmelding (HelseOpplysningerArbeidsuforhet 2013): one certificate, diagnoses, free-text answers."""
    periods = descendants(first(root, "Aktivitet"), "Periode")
    starts = [d for d in (normalise_date(text(p, "PeriodeFOMDato")) for p in periods) if d]
    ends = [d for d in (normalise_date(text(p, "PeriodeTOMDato")) for p in periods) if d]
    grade = next((text(g) for g in descendants(first(root, "Aktivitet"), "Sykmeldingsgrad") if text(g)), None)
    if grade is None and periods and any(local(c) == "AktivitetIkkeMulig" for p in periods for c in elements(p)):
        grade = "100"
    diag = first(root, "MedisinskVurdering", "HovedDiagnose", "Diagnosekode")
    code, system, display, _ot = coded(diag)
    answers = [
        f"{text(s, 'SpmTekst') or text(s, 'SpmId')}: {text(s, 'SvarTekst')}"
        for s in descendants(root, "SpmSvar")
        if text(s, "SvarTekst")
    ]
    issued = text(root, "KontaktMedPasient", "BehandletDato")
    out = [
        Record(
            "kith_certificate",
            root,
            {
                "certificate_code": "SYKMELD",
                "certificate_display": "Sykmelding",
                "issued_at": issued,
                "issued_at_utc": normalise_timestamp(issued),
                "period_start": min(starts) if starts else None,
                "period_end": max(ends) if ends else None,
                "grade_percent": grade,
                "diagnosis_code": code,
                "diagnosis_system": system,
                "diagnosis_display": display,
                "recipient": text(root, "Arbeidsgiver", "NavnArbeidsgiver"),
                "text": "\n".join(answers) or None,
            },
        )
    ]
    main = _diagnosis(diag, diag, "sykmelding", "main") if diag is not None else None
    if main is not None:
        out.append(main)
    for extra in descendants(first(root, "MedisinskVurdering", "BiDiagnoser"), "Diagnosekode"):
        rec = _diagnosis(extra, extra, "sykmelding", "secondary")
        if rec is not None:
            out.append(rec)
    return out


def legeerklaering(root: Element) -> list[Record]:
    """Legeerklæring 2008: one certificate with its diagnoses; the text parts go to the certificate text."""
    dia = first(root, "DiagnoseArbeidsuforhet")
    singles = descendants(dia, "Enkeltdiagnose")
    first_code = attr(singles[0], "kodeverdi") if singles else None
    first_text = attr(singles[0], "diagnose") if singles else None
    parts = []
    for name in ("StatusPresens", "SymptomerBehandling"):
        body = text(dia, name)
        if body:
            parts.append(f"{name}: {body}")
    for section in ("PlanUtredBehandle", "VurderingFunksjonsevne", "Prognose"):
        body = all_text(first(root, section))
        if body and body.strip():
            parts.append(f"{section}: {' '.join(body.split())}")
    since = attr(dia, "arbeidsuforFra")
    out = [
        Record(
            "kith_certificate",
            root,
            {
                "certificate_code": "LEGEERKL",
                "certificate_display": "Legeerklæring ved arbeidsuførhet",
                "issued_at": None,
                "issued_at_utc": None,
                "period_start": normalise_date(since),
                "period_end": None,
                "grade_percent": None,
                "diagnosis_code": first_code,
                "diagnosis_system": None,
                "diagnosis_display": first_text,
                "recipient": attr(first(root, "Pasientopplysninger", "Pasient"), "trygdekontor"),
                "text": "\n".join(parts) or None,
            },
        )
    ]
    for i, single in enumerate(singles):
        out.append(
            Record(
                "kith_diagnosis",
                single,
                {
                    "source_kind": "legeerklaering",
                    "code": attr(single, "kodeverdi"),
                    "system": None,
                    "display": attr(single, "diagnose"),
                    "original_text": None,
                    "role": "main" if i == 0 else "secondary",
                },
            )
        )
    return out


READERS: dict[str, Callable[[Element], list[Record]]] = {
    "dialogmelding": dialogmelding,
    "epikrise": epikrise,
    "henvisning": henvisning,
    "svarrapport": svarrapport,
    "sykmelding": sykmelding,
    "legeerklaering": legeerklaering,
}
"""Payload kind -> the function that reads it."""


def read_payload(element: Element) -> list[Record] | None:
    """Return the records of a payload, or None when its kind is unknown (it is then preserved raw)."""
    kind = payload_kind(element)
    reader = READERS.get(kind) if kind else None
    return None if reader is None else reader(element)
