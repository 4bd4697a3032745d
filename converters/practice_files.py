"""File formats of the demo practice's attachments, written by hand (no imaging or office library).

* TIFF: an uncompressed 8-bit grayscale "scan" (baseline TIFF 6.0, little-endian, one strip).
* JPEG: a baseline JFIF image of flat gray blocks, with a comment segment naming the document.
  The Huffman tables hold only the codes the image uses (DC category 0, AC end-of-block).
* RTF: RTF 1 in code page 1252 (æ, ø, å written as ``\\'e6`` escapes), as old word processors wrote.
* DOC: an OLE2 compound file (version 3, 512-byte sectors) with one ``WordDocument`` stream that
  starts with the Word FIB signature ``0xA5EC`` and holds the letter's text in cp1252. It is a
  compound file (``file`` says "CDFV2 Microsoft Word") but NOT a complete Word 97 document: Word needs
  a full FIB and table stream, which the demo does not synthesise.
* PDF: PDF 1.4 with one page of text (Helvetica, WinAnsiEncoding), correct cross-reference table.

Every builder is a pure function of its arguments, so the generated practice is byte-identical
for the same seed.
"""

from __future__ import annotations

import struct

_CP1252 = "cp1252"


def tiff(width: int, height: int, pixels: bytes, *, description: str) -> bytes:
    """Return a grayscale TIFF of ``width`` x ``height`` with ``pixels`` (one byte per pixel)."""
    if len(pixels) != width * height:
        raise ValueError("pixels must hold width * height bytes")
    desc = description.encode("ascii", "replace") + b"\0"
    entries = 10
    ifd_offset = 8
    ifd_size = 2 + entries * 12 + 4
    desc_offset = ifd_offset + ifd_size
    data_offset = desc_offset + len(desc)
    tags = [
        (256, 3, 1, width),  # ImageWidth
        (257, 3, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # PhotometricInterpretation: black is zero
        (270, 2, len(desc), desc_offset),  # ImageDescription
        (273, 4, 1, data_offset),  # StripOffsets
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 3, 1, height),  # RowsPerStrip
        (279, 4, 1, len(pixels)),  # StripByteCounts
    ]
    out = bytearray(b"II*\0" + struct.pack("<I", ifd_offset))
    out += struct.pack("<H", entries)
    for tag, kind, count, value in tags:
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0)
    return bytes(out + desc + pixels)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(blocks_wide: int, blocks_high: int, *, comment: str) -> bytes:
    """Return a baseline grayscale JPEG of flat mid-gray 8x8 blocks with a COM segment."""
    width, height = blocks_wide * 8, blocks_high * 8
    quant = bytes([0]) + bytes([16] * 64)
    frame = struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0])
    # one code of length 1 in each table: DC category 0 and AC end-of-block (symbol 0)
    dc = bytes([0x00]) + bytes([1] + [0] * 15) + bytes([0])
    ac = bytes([0x10]) + bytes([1] + [0] * 15) + bytes([0])
    scan = bytes([1, 1, 0x00, 0, 63, 0])
    bits = blocks_wide * blocks_high * 2  # "0" (DC diff 0) + "0" (EOB) per block
    data = bytes((bits + 7) // 8)
    if bits % 8:
        data = data[:-1] + bytes([(1 << (8 - bits % 8)) - 1])  # pad the last byte with one-bits
    return b"".join(
        [
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xFE, comment.encode("utf-8")),
            _segment(0xDB, quant),
            _segment(0xC0, frame),
            _segment(0xC4, dc + ac),
            _segment(0xDA, scan),
            data,
            b"\xff\xd9",
        ]
    )


def _rtf_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\par\n")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("".join(f"\\'{b:02x}" for b in ch.encode(_CP1252, "replace")))
    return "".join(out)


def rtf(title: str, body: str) -> bytes:
    """Return an RTF letter in code page 1252."""
    text = (
        "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}\n"
        f"\\f0\\fs28\\b {_rtf_escape(title)}\\b0\\par\n\\fs24 {_rtf_escape(body)}\\par\n}}\n"
    )
    return text.encode("ascii")


_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def _dir_entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    """One 128-byte directory entry (no siblings; black; no class id, times or state bits)."""
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    color = 1 if kind else 0
    return struct.pack(
        "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, color, _FREE, _FREE, child, b"\0" * 16, 0, 0, 0, start, size
    )


def word_doc(text: str) -> bytes:
    """Return an OLE2 compound file whose ``WordDocument`` stream holds ``text`` (see module docstring)."""
    stream = struct.pack("<HH", 0xA5EC, 0x00C1) + text.encode(_CP1252, "replace")
    stream += bytes(max(0, 4096 - len(stream)))  # below 4096 bytes a stream would need a mini stream
    stream += bytes(-len(stream) % 512)
    data_sectors = len(stream) // 512
    fat = [_FAT, _END] + [2 + i + 1 for i in range(data_sectors - 1)] + [_END]
    fat += [_FREE] * (128 - len(fat))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\0" * 16,
        0x003E,
        0x0003,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,  # directory sectors (always 0 in version 3)
        1,  # FAT sectors
        1,  # first directory sector
        0,
        4096,
        _END,  # first mini FAT sector
        0,
        _END,  # first DIFAT sector
        0,
    ) + struct.pack("<109I", 0, *([_FREE] * 108))
    directory = (
        _dir_entry("Root Entry", 5, 1, _END, 0)
        + _dir_entry("WordDocument", 2, _FREE, 2, len(text.encode(_CP1252, "replace")) + 4)
        + _dir_entry("", 0, _FREE, 0, 0) * 2
    )
    return header + struct.pack("<128I", *fat) + directory + stream


def _pdf_text(text: str) -> str:
    raw = text.encode(_CP1252, "replace")
    out = []
    for b in raw:
        ch = chr(b)
        if ch in "\\()":
            out.append("\\" + ch)
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append(f"\\{b:03o}")
    return "".join(out)


def pdf(title: str, lines: list[str]) -> bytes:
    """Return a one-page PDF 1.4 with ``title`` and ``lines`` of text."""
    ops = ["BT", "/F1 14 Tf", "50 790 Td", f"({_pdf_text(title)}) Tj", "/F1 11 Tf", "0 -24 Td"]
    for line in lines:
        ops += [f"({_pdf_text(line)}) Tj", "0 -15 Td"]
    ops.append("ET")
    content = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
