"""Replies as real mail clients write them: one case per client quirk, each a message written
here in the exact form the client uses (header layout, boundaries, how the attachment name is
encoded), after published header samples of Foxmail 6.5/7.2, Outlook 2007-2016 and Exchange,
QQ Mail, 163/Coremail, Apple Mail, Thunderbird, phone mail apps, OA systems and mailer daemons.
None of them is made with our own encoder.

Each case builds the raw bytes of one unit's reply from a :class:`Ctx` (the unit, the message we
sent it, its filled workbook) and says what the unit's state must be after ``fetch``:
``accepted``, ``rejected:<code>`` or the ``mail-*`` code of a reply that is not a return.
"""
from __future__ import annotations

import base64
import os
import quopri
import struct
import tempfile
import zlib
from dataclasses import dataclass
from typing import Callable, List

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Ctx:
    """What a unit's reply is made from."""

    email: str  # the unit's registered address
    name: str  # its full name
    subject: str  # the subject of the message we sent it
    message_id: str  # the Message-ID of the message we sent it
    file_name: str  # the workbook's name as we sent it
    workbook: bytes  # the unit's filled workbook
    blank: bytes  # the workbook exactly as we sent it
    office: str = "office@minshi.test"
    date: str = "Wed, 3 Jul 2024 10:15:00 +0800"


@dataclass
class Case:
    id: str
    client: str
    expect: str  # accepted | rejected:<code> | mail-* code
    build: Callable[[Ctx], bytes]
    note: str = ""
    fmt: str = "xlsx"  # the workbook as the unit saved it (xls: re-saved by LibreOffice)


# --- encoders as the clients use them ---------------------------------------------------------

def b64(data: bytes, width: int = 76) -> str:
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


def word(text: str, charset: str = "gb2312", enc: str = "B") -> str:
    data = text.encode("gb18030" if charset.lower() in ("gb2312", "gbk", "gb18030") else charset)
    return raw_word(data, charset, enc)


def raw_word(data: bytes, charset: str, enc: str = "B") -> str:
    if enc.upper() == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    q = quopri.encodestring(data, header=True).decode().replace("\n", "")
    return f"=?{charset}?Q?{q}?="


def split_words(text: str, charset: str, cut: int) -> List[str]:
    """Two encoded words of ``text`` split after ``cut`` bytes: in the middle of a character
    (what Outlook and Foxmail do when a name passes their line length)."""
    data = text.encode("gb18030" if charset.lower() != "utf-8" else "utf-8")
    return [raw_word(data[:cut], charset), raw_word(data[cut:], charset)]


def odd_cut(text: str, charset: str) -> int:
    """A byte offset inside a multi-byte character, near the middle."""
    data = text.encode("gb18030" if charset.lower() != "utf-8" else "utf-8")
    n = len(data) // 2
    while data[n] < 0x80:
        n += 1
    return n + 1


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii")


def tnef(name: str, data: bytes) -> bytes:
    """Outlook's winmail.dat (MS-OXTNEF): the attachment's title in the OEM code page (936)."""
    def attr(level, aid, body):
        return struct.pack("<BII", level, aid, len(body)) + body + \
            struct.pack("<H", sum(body) & 0xFFFF)
    return (struct.pack("<IH", 0x223E9F78, 0x0B1C)
            + attr(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
            + attr(1, 0x00069007, struct.pack("<II", 936, 0))  # attOemCodepage
            + attr(1, 0x00078008, b"IPM.Microsoft Mail.Note\0")  # attMessageClass
            + attr(2, 0x00069002, b"\x01\x00\xff\xff\xff\xff" + b"\0" * 8)  # attAttachRendData
            + attr(2, 0x00018010, name.encode("gbk") + b"\0")  # attAttachTitle
            + attr(2, 0x0006800F, data))  # attAttachData


def rar4(name: str, data: bytes) -> bytes:
    """A RAR 4 archive storing one file (method 0x30), as WinRAR writes with -m0."""
    def block(head_type, flags, body):
        head = struct.pack("<BHH", head_type, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head
    fname = name.encode("ascii")
    fhead = struct.pack("<IIBIIBBHI", len(data), len(data), 2, zlib.crc32(data), 0x58E00000,
                        20, 0x30, len(fname), 0x20) + fname
    return (b"Rar!\x1a\x07\x00" + block(0x73, 0, b"\0" * 6)
            + block(0x74, 0x8000, fhead) + data + block(0x7B, 0x4000, b""))


def seven_zip(name: str, data: bytes) -> bytes:
    import libarchive
    fd, path = tempfile.mkstemp(suffix=".7z")
    os.close(fd)
    try:
        with libarchive.file_writer(path, "7zip") as w:
            w.add_file_from_memory(name, len(data), data)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def text_part(boundary: str, text: str, charset: str) -> str:
    """A base64 text/plain body part the way Outlook and Foxmail write it (charset on its own
    folded line)."""
    data = text.encode("gbk" if charset.lower().startswith("gb") else charset)
    return (f"{boundary}\nContent-Type: text/plain;\n\tcharset=\"{charset}\"\n"
            f"Content-Transfer-Encoding: base64\n\n{b64(data)}")


FOLD, FOLD_TAB = "\n ", "\n\t"  # a header folded onto the next line (space / tab)


def attachment_block(boundary: str, ctype: str, name: str, data: bytes) -> str:
    """An attachment part as Outlook and Foxmail lay it out: the same (possibly folded) value
    in ``name`` and ``filename``, each parameter on its own line."""
    return (f"{boundary}\nContent-Type: {ctype};\n\tname=\"{name}\"\n"
            "Content-Transfer-Encoding: base64\nContent-Disposition: attachment;\n"
            f"\tfilename=\"{name}\"\n\n{b64(data)}")


def re_subject(ctx: Ctx, prefix: str = "回复") -> str:
    return f"{prefix}：{ctx.subject}"


# --- the cases ---------------------------------------------------------------------------------

def foxmail65(ctx: Ctx) -> bytes:
    """Foxmail 6.5: GB2312 words everywhere, a long name split mid-character over two words in
    quotes, ``=====001_Dragon…_=====`` boundaries."""
    parts = split_words(ctx.file_name, "gb2312", odd_cut(ctx.file_name, "gb2312"))
    subj = split_words(re_subject(ctx), "gb2312", odd_cut(re_subject(ctx), "gb2312"))
    return crlf(f"""Date: {ctx.date}
From: "{word(ctx.name)}" <{ctx.email}>
To: "office" <{ctx.office}>
Subject: {subj[0]}
 {subj[1]}
Message-ID: <200407031015448281234@{ctx.email.split('@')[1]}>
In-Reply-To: {ctx.message_id}
X-mailer: Foxmail 6, 15, 201, 26 [cn]
Mime-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="=====001_Dragon137431226538_====="

This is a multi-part message in MIME format.

{text_part("--=====001_Dragon137431226538_=====", "已填好，请查收。", "gb2312")}

{attachment_block("--=====001_Dragon137431226538_=====", 'application/octet-stream', parts[0] + FOLD + parts[1], ctx.workbook)}

--=====001_Dragon137431226538_=====--
""")


def foxmail72(ctx: Ctx) -> bytes:
    """Foxmail 7.2: ``name==?GB2312?B?…?=`` without quotes, ``----=_001_NextPart…`` boundary,
    multipart/alternative body inside multipart/mixed."""
    w = word(ctx.file_name, "GB2312")
    return crlf(f"""Date: {ctx.date}
From: "{word(ctx.name, 'GB2312')}" <{ctx.email}>
To: "office" <{ctx.office}>
Subject: {word(re_subject(ctx, "回复"), "GB2312")}
References: {ctx.message_id}
In-Reply-To: {ctx.message_id}
X-Priority: 3
X-Has-Attach: yes
X-Mailer: Foxmail 7.2.25.228[cn]
Mime-Version: 1.0
Message-ID: <202407031015306874722@{ctx.email.split('@')[1]}>
Content-Type: multipart/mixed;
\tboundary="----=_001_NextPart517445305814_=----"

This is a multi-part message in MIME format.

------=_001_NextPart517445305814_=----
Content-Type: multipart/alternative;
\tboundary="----=_002_NextPart525774237380_=----"


{text_part("------=_002_NextPart525774237380_=----", "报表见附件。", "GB2312")}

------=_002_NextPart525774237380_=----
Content-Type: text/html;
\tcharset="GB2312"
Content-Transfer-Encoding: quoted-printable

<html><body>report</body></html>

------=_002_NextPart525774237380_=------

------=_001_NextPart517445305814_=----
Content-Type: application/octet-stream;
\tname={w}
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
\tfilename={w}

{b64(ctx.workbook)}

------=_001_NextPart517445305814_=------
""")


def outlook2007(ctx: Ctx) -> bytes:
    """Outlook 2007 (zh-CN): the xlsx media type, ``name="=?gb2312?B?…?="`` split in the middle
    of a character, ``Thread-Index``, ``------=_NextPart_000_…`` boundary."""
    parts = split_words(ctx.file_name, "gb2312", odd_cut(ctx.file_name, "gb2312"))
    return crlf(f"""From: "{word(ctx.name)}" <{ctx.email}>
To: <{ctx.office}>
References: {ctx.message_id}
In-Reply-To: {ctx.message_id}
Subject: {word(re_subject(ctx, "答复"))}
Date: {ctx.date}
Message-ID: <000001cad9a8$4f2c0e30$ed842a90$@{ctx.email.split('@')[1]}>
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_NextPart_000_0001_01CAD9EB.5D4F4E30"
X-Mailer: Microsoft Office Outlook 12.0
Thread-Index: AcrZqEmM5i4D2bVpSL2Rnq8CbHxAmA==
Content-Language: zh-cn

This is a multipart message in MIME format.

{text_part("------=_NextPart_000_0001_01CAD9EB.5D4F4E30", "附件为我单位报表。", "gb2312")}

{attachment_block("------=_NextPart_000_0001_01CAD9EB.5D4F4E30", XLSX, parts[0] + FOLD_TAB + parts[1], ctx.workbook)}

------=_NextPart_000_0001_01CAD9EB.5D4F4E30--
""")


def outlook_exchange_tnef(ctx: Ctx) -> bytes:
    """Outlook 2016 through Exchange to an outside address in rich text: the workbook is inside
    ``winmail.dat`` (application/ms-tnef)."""
    return crlf(f"""From: {word(ctx.name, "utf-8")} <{ctx.email}>
To: "office@minshi.test" <{ctx.office}>
Subject: {word(re_subject(ctx, "答复"), "utf-8")}
Thread-Topic: {word(ctx.subject, "utf-8")}
Thread-Index: AdrM1Y0f3nA2k7oPT5q8vWq3xYhG7g==
Date: {ctx.date}
Message-ID: <HK0PR03MB4785C1D2E3F4A5B6C7D8E9F0A1B2@HK0PR03MB4785.apcprd03.prod.outlook.com>
References: {ctx.message_id}
In-Reply-To: {ctx.message_id}
Accept-Language: zh-CN, en-US
Content-Language: zh-CN
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator: <HK0PR03MB4785C1D2E3F4A5B6C7D8E9F0A1B2@HK0PR03MB4785.apcprd03.prod.outlook.com>
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="_000_HK0PR03MB4785C1D2_"

--_000_HK0PR03MB4785C1D2_
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64

{b64("请查收。".encode("gbk"))}

--_000_HK0PR03MB4785C1D2_
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="winmail.dat"

{b64(tnef(ctx.file_name, ctx.workbook))}

--_000_HK0PR03MB4785C1D2_--
""")


def outlook2016_utf8(ctx: Ctx) -> bytes:
    """Outlook 2016: UTF-8 base64 words split mid-character in ``name`` and ``filename``,
    words of at most 75 characters folded over lines."""
    parts = split_words(ctx.file_name, "utf-8", odd_cut(ctx.file_name, "utf-8"))
    return crlf(f"""From: "{ctx.email}" <{ctx.email}>
To: <{ctx.office}>
References: {ctx.message_id}
In-Reply-To: {ctx.message_id}
Subject: {word(re_subject(ctx, "答复"), "utf-8")}
Date: {ctx.date}
Message-ID: <004a01da9c7e$e3b1c2a0$ab1547e0$@{ctx.email.split('@')[1]}>
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_NextPart_000_004B_01DA9CC1.F1D5A2A0"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AQHanH7jmNn7Xvd0QkS3pT1vQ0mbgQ==
Content-Language: zh-cn

------=_NextPart_000_004B_01DA9CC1.F1D5A2A0
Content-Type: text/plain;
\tcharset="utf-8"
Content-Transfer-Encoding: base64

{b64("已填报。".encode())}

{attachment_block("------=_NextPart_000_004B_01DA9CC1.F1D5A2A0", 'application/octet-stream', parts[0] + FOLD + parts[1], ctx.workbook)}

------=_NextPart_000_004B_01DA9CC1.F1D5A2A0--
""")


def qq_mail(ctx: Ctx) -> bytes:
    """QQ Mail web: ``charset="gb18030"`` on the attachment, GB18030 words, X-QQ-mid."""
    w = word(ctx.file_name, "gb18030")
    return crlf(f"""X-QQ-mid: bizesmtp56t1720000000tqk8wbz1
From: "{word(ctx.name, 'gb18030')}" <{ctx.email}>
To: "{ctx.office}" <{ctx.office}>
Subject: {word(re_subject(ctx, "回复"), "gb18030")}
Mime-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_NextPart_668503A4_0B6D7F40_3E2A1C55"
Content-Transfer-Encoding: 8Bit
Date: {ctx.date}
X-Priority: 3
Message-ID: <tencent_3F0C1B7E9A2D4C5B8E6F@qq.com>
X-QQ-MIME: TCMime 1.0 by Tencent
X-Mailer: QQMail 2.x
X-QQ-Mailer: QQMail 2.x
References: {ctx.message_id}
In-Reply-To: {ctx.message_id}

This is a multi-part message in MIME format.

------=_NextPart_668503A4_0B6D7F40_3E2A1C55
Content-Type: multipart/alternative;
\tboundary="----=_NextPart_668503A4_0B6D7F40_6C1A4B0E";

{text_part("------=_NextPart_668503A4_0B6D7F40_6C1A4B0E", "好的", "gb18030")}

------=_NextPart_668503A4_0B6D7F40_6C1A4B0E--

------=_NextPart_668503A4_0B6D7F40_3E2A1C55
Content-Type: application/octet-stream;
\tcharset="gb18030";
\tname="{w}"
Content-Disposition: attachment; filename="{w}"
Content-Transfer-Encoding: base64

{b64(ctx.workbook)}

------=_NextPart_668503A4_0B6D7F40_3E2A1C55--
""")


def coremail_163(ctx: Ctx) -> bytes:
    """163 web mail (Coremail): UTF-8 words, X-CM-TRANSID, an ``application/vnd.ms-excel``
    type on an .xlsx (Coremail guesses the type), reply without In-Reply-To."""
    w = word(ctx.file_name, "UTF-8")
    return crlf(f"""Received: from {ctx.email.split('@')[0]}$163.com ( [36.112.1.10] ) by
 ajax-webmail-wmsvr40 (Coremail) ; Wed, 3 Jul 2024 10:15:00 +0800 (CST)
X-Originating-IP: [36.112.1.10]
Date: {ctx.date}
From: {word(ctx.name, "UTF-8")} <{ctx.email}>
To: "{ctx.office}" <{ctx.office}>
Subject: {word("Re:" + ctx.subject, "UTF-8")}
X-Priority: 3
X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20230424(3f8b3ef4)
 Copyright (c) 2002-2024 www.mailtech.cn 163com
X-NTES-SC: AL_Qu2aB1ycuE0v4SmZY+kZnEYQheY4XMKyu/0u1YJfP5E0tCTI8wQcbmJTG2Db
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_Part_123456_789012345.1720000000000"
Message-ID: <1a2b3c4d.5e6f.190771a2b3c.Coremail.{ctx.email.split('@')[0]}@163.com>
X-Coremail-Locale: zh_CN
X-CM-TRANSID:_____wD3H6x0AoVmAbcdAA--.12345W
X-CM-SenderInfo: 5xqjvxhqjz1qqrwthudrp/1tbiPxAbcdefghijkl
X-Coremail-Antispam: 1U5529EdanIXcx71UUUUU7vcSsGvfC2KfnxnUU==

------=_Part_123456_789012345.1720000000000
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

{b64("报表已填，请查收".encode())}
------=_Part_123456_789012345.1720000000000
Content-Type: application/vnd.ms-excel; name="{w}"
Content-Disposition: attachment; filename="{w}"
Content-Transfer-Encoding: base64

{b64(ctx.workbook)}
------=_Part_123456_789012345.1720000000000--
""")


def apple_mail(ctx: Ctx) -> bytes:
    """Apple Mail: the attachment lives inside multipart/alternative → multipart/mixed (between
    two HTML parts), ``Content-Disposition: inline`` with RFC 2231 ``filename*=``."""
    from urllib.parse import quote
    star = quote(ctx.file_name.encode(), safe="")
    return crlf(f"""From: {word(ctx.name, "utf-8", "Q")} <{ctx.email}>
Content-Type: multipart/alternative;
\tboundary="Apple-Mail=_6B1F3C2D-8A4E-4F7B-9C1D-2E3F4A5B6C7D"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))
Subject: {word(re_subject(ctx, "回复"), "utf-8", "Q")}
Date: {ctx.date}
In-Reply-To: {ctx.message_id}
To: {ctx.office}
References: {ctx.message_id}
Message-Id: <9D6E8F1A-2B3C-4D5E-8F7A-1B2C3D4E5F6A@{ctx.email.split('@')[1]}>
X-Mailer: Apple Mail (2.3774.600.62)


--Apple-Mail=_6B1F3C2D-8A4E-4F7B-9C1D-2E3F4A5B6C7D
Content-Transfer-Encoding: base64
Content-Type: text/plain;
\tcharset=utf-8

{b64("见附件".encode())}

--Apple-Mail=_6B1F3C2D-8A4E-4F7B-9C1D-2E3F4A5B6C7D
Content-Type: multipart/mixed;
\tboundary="Apple-Mail=_0A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D"


--Apple-Mail=_0A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D
Content-Transfer-Encoding: 7bit
Content-Type: text/html;
\tcharset=us-ascii

<html><body><div>see attachment</div></body></html>
--Apple-Mail=_0A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D
Content-Disposition: inline;
\tfilename*=utf-8''{star}
Content-Type: {XLSX};
\tx-unix-mode=0644;
\tname="{word(ctx.file_name, 'utf-8')}"
Content-Transfer-Encoding: base64

{b64(ctx.workbook)}
--Apple-Mail=_0A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D
Content-Transfer-Encoding: 7bit
Content-Type: text/html;
\tcharset=us-ascii

<html><body></body></html>
--Apple-Mail=_0A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D--

--Apple-Mail=_6B1F3C2D-8A4E-4F7B-9C1D-2E3F4A5B6C7D--
""")


def thunderbird(ctx: Ctx) -> bytes:
    """Thunderbird 115: RFC 2231 continuations ``filename*0*=UTF-8''…; filename*1*=…`` and a
    folded RFC 2047 ``name``."""
    from urllib.parse import quote
    star = quote(ctx.file_name.encode(), safe="")
    half = len(star) // 2
    while star[half - 1] == "%" or star[half - 2] == "%":
        half += 1
    parts = split_words(ctx.file_name, "UTF-8", odd_cut(ctx.file_name, "utf-8"))
    return crlf(f"""Message-ID: <b3c1a2d4-5e6f-7a8b-9c0d-1e2f3a4b5c6d@{ctx.email.split('@')[1]}>
Date: {ctx.date}
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: {word("Re: " + ctx.subject, "UTF-8")}
Content-Language: zh-CN
To: office <{ctx.office}>
References: {ctx.message_id}
From: {word(ctx.name, "UTF-8")} <{ctx.email}>
In-Reply-To: {ctx.message_id}
Content-Type: multipart/mixed; boundary="------------8Kq0sQ1nW4ZbQ1Tz3D2xYc7v"

This is a multi-part message in MIME format.
--------------8Kq0sQ1nW4ZbQ1Tz3D2xYc7v
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

ok

--------------8Kq0sQ1nW4ZbQ1Tz3D2xYc7v
Content-Type: {XLSX};
 name="{parts[0]}
 {parts[1]}"
Content-Disposition: attachment;
 filename*0*=UTF-8''{star[:half]};
 filename*1*={star[half:]}
Content-Transfer-Encoding: base64

{b64(ctx.workbook, 72)}

--------------8Kq0sQ1nW4ZbQ1Tz3D2xYc7v--
""")


def iphone_cut_name(ctx: Ctx) -> bytes:
    """iPhone Mail: the name cut short by the phone, no extension left."""
    cut = ctx.file_name[:9]  # "2024-06_市"
    return crlf(f"""Content-Type: multipart/mixed; boundary=Apple-Mail-8F2B1C3D-4E5F-6789-ABCD-EF0123456789
Content-Transfer-Encoding: 7bit
From: {word(ctx.name, "utf-8")} <{ctx.email}>
Mime-Version: 1.0 (1.0)
Date: {ctx.date}
Subject: {word("Re: " + ctx.subject, "utf-8")}
Message-Id: <C4D5E6F7-0A1B-2C3D-4E5F-60718293A4B5@{ctx.email.split('@')[1]}>
References: {ctx.message_id}
In-Reply-To: {ctx.message_id}
To: {ctx.office}
X-Mailer: iPhone Mail (21F90)


--Apple-Mail-8F2B1C3D-4E5F-6789-ABCD-EF0123456789
Content-Type: text/plain;
\tcharset=utf-8
Content-Transfer-Encoding: base64

{b64("发自我的iPhone".encode())}
--Apple-Mail-8F2B1C3D-4E5F-6789-ABCD-EF0123456789
Content-Type: application/octet-stream;
\tname="{word(cut, 'utf-8')}"
Content-Disposition: attachment;
\tfilename="{word(cut, 'utf-8')}"
Content-Transfer-Encoding: base64

{b64(ctx.workbook)}
--Apple-Mail-8F2B1C3D-4E5F-6789-ABCD-EF0123456789--
""")


def android_fujian(ctx: Ctx) -> bytes:
    """A phone's built-in mail app: the attachment is just ``附件``."""
    return crlf(f"""Date: {ctx.date}
From: <{ctx.email}>
To: <{ctx.office}>
Message-ID: <b1c2d3e4f5a6.19077f1e2d3.android@{ctx.email.split('@')[1]}>
In-Reply-To: {ctx.message_id}
Subject: {word(re_subject(ctx, "回复"), "UTF-8")}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="--_com.android.email_1720000000000"

----_com.android.email_1720000000000
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{b64("从我的手机发送".encode())}
----_com.android.email_1720000000000
Content-Type: application/octet-stream; name="{word('附件', 'UTF-8')}"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="{word('附件', 'UTF-8')}"; size={len(ctx.workbook)}

{b64(ctx.workbook)}
----_com.android.email_1720000000000--
""")


def mobile_163_xls(ctx: Ctx) -> bytes:
    """163 Mail's phone app: an .xls (Excel 97, as WPS on a phone saves it) named ``附件1``,
    typed ``application/octet-stream``: only its OLE bytes say it is a workbook."""
    return crlf(f"""Date: {ctx.date}
From: "{word(ctx.name, 'UTF-8')}" <{ctx.email}>
To: {ctx.office}
Subject: {word("Re:" + ctx.subject, "UTF-8")}
In-Reply-To: {ctx.message_id}
Message-ID: <mobile163.{ctx.email.split('@')[0]}@163.com>
X-Mailer: NetEase Mail Master 7.17.2 Android
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mm-5d1b"

--mm-5d1b
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

{b64("发自网易邮箱大师".encode())}
--mm-5d1b
Content-Type: application/octet-stream; name="{word('附件1', 'UTF-8')}"
Content-Disposition: attachment; filename="{word('附件1', 'UTF-8')}"
Content-Transfer-Encoding: base64

{b64(ctx.workbook)}
--mm-5d1b--
""")


def raw_gbk_headers(ctx: Ctx) -> bytes:
    """An old client / OA gateway: raw 8-bit GBK in Subject, From and the file name."""
    head = (f"Date: {ctx.date}\nFrom: {ctx.name} <{ctx.email}>\nTo: <{ctx.office}>\n"
            f"Subject: {re_subject(ctx)}\nMessage-ID: <raw8bit.{ctx.email}>\n"
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"OA_BOUNDARY_1\"\n"
            "X-Mailer: OA Mail Gateway 3.1\n\n--OA_BOUNDARY_1\n"
            "Content-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: 8bit\n\n报表\n"
            f"--OA_BOUNDARY_1\nContent-Type: application/octet-stream; name=\"{ctx.file_name}\"\n"
            f"Content-Disposition: attachment; filename=\"{ctx.file_name}\"\n"
            "Content-Transfer-Encoding: base64\n\n")
    return (head.replace("\n", "\r\n").encode("gbk") + crlf(b64(ctx.workbook))
            + b"\r\n--OA_BOUNDARY_1--\r\n")


def oa_rar(ctx: Ctx) -> bytes:
    """An OA system that packs what it sends into a .rar."""
    return crlf(f"""Date: {ctx.date}
From: "OA" <{ctx.email}>
To: <{ctx.office}>
Subject: {word(ctx.subject + " 报送", "utf-8")}
Message-ID: <oa.20240703.0001@{ctx.email.split('@')[1]}>
X-Mailer: Seeyon A8 Mail
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_oa_part_1"

--=_oa_part_1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

{b64("<p>请查收附件。</p>".encode())}
--=_oa_part_1
Content-Type: application/x-rar-compressed; name="{word('报表.rar', 'utf-8')}"
Content-Disposition: attachment; filename="{word('报表.rar', 'utf-8')}"
Content-Transfer-Encoding: base64

{b64(rar4("report-2024-06.xlsx", ctx.workbook))}
--=_oa_part_1--
""")


def foxmail_7z(ctx: Ctx) -> bytes:
    """Foxmail with a .7z archive."""
    w = word("报表.7z", "GB2312")
    return crlf(f"""Date: {ctx.date}
From: "{word(ctx.name, 'GB2312')}" <{ctx.email}>
To: "office" <{ctx.office}>
Subject: {word(re_subject(ctx), "GB2312")}
In-Reply-To: {ctx.message_id}
X-Mailer: Foxmail 7.2.23.121[cn]
Mime-Version: 1.0
Message-ID: <202407031015441234567@{ctx.email.split('@')[1]}>
Content-Type: multipart/mixed;
\tboundary="----=_001_NextPart112233445566_=----"

{text_part("------=_001_NextPart112233445566_=----", "附件", "GB2312")}

{attachment_block("------=_001_NextPart112233445566_=----", 'application/octet-stream', w, seven_zip(ctx.file_name, ctx.workbook))}

------=_001_NextPart112233445566_=------
""")


def forwarded_rfc822(ctx: Ctx) -> bytes:
    """Thunderbird "forward as attachment": the colleague's reply is a message/rfc822 part."""
    inner = outlook2007(ctx).decode("ascii")
    return crlf(f"""Message-ID: <fwd-3c2b1a@{ctx.email.split('@')[1]}>
Date: {ctx.date}
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: {word("Fwd: " + ctx.subject, "UTF-8")}
To: {ctx.office}
From: <{ctx.email}>
Content-Type: multipart/mixed; boundary="------------fwdBoundary0001"

This is a multi-part message in MIME format.
--------------fwdBoundary0001
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit

fyi

--------------fwdBoundary0001
Content-Type: message/rfc822; name="=?UTF-8?B?5Zue5aSN?=.eml"
Content-Disposition: attachment; filename="=?UTF-8?B?5Zue5aSN?=.eml"

{inner}
--------------fwdBoundary0001--
""")


def registered_no_period(ctx: Ctx) -> bytes:
    """A new message from the registered address: subject "报表", file "数据.xlsx" — neither
    names the period; the workbook's _meta does."""
    w = word("数据.xlsx", "utf-8")
    return crlf(f"""Date: {ctx.date}
From: <{ctx.email}>
To: <{ctx.office}>
Subject: {word("报表", "utf-8")}
Message-ID: <noperiod.{ctx.email}>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="np1"

--np1
Content-Type: {XLSX}; name="{w}"
Content-Disposition: attachment; filename="{w}"
Content-Transfer-Encoding: base64

{b64(ctx.workbook)}
--np1--
""")


def unknown_sender(ctx: Ctx) -> bytes:
    """A personal 163 address nobody registered, subject saying nothing: downloaded anyway,
    collect identifies the unit and flags unexpected-sender."""
    w = word("表格.xlsx", "UTF-8")
    return crlf(f"""Date: {ctx.date}
From: {word("小王", "UTF-8")} <xiaowang1988@163.example>
To: "{ctx.office}" <{ctx.office}>
Subject: {word("表", "UTF-8")}
X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20230424(3f8b3ef4)
Message-ID: <7e8f9a0b.1c2d.190771a2b3c.Coremail.xiaowang1988@163.example>
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_Part_99_1.1720000000001"

------=_Part_99_1.1720000000001
Content-Type: application/octet-stream; name="{w}"
Content-Disposition: attachment; filename="{w}"
Content-Transfer-Encoding: base64

{b64(ctx.workbook)}
------=_Part_99_1.1720000000001--
""")


SCAN = b"%PDF-1.4\n% sealed scan\n%%EOF\n"


def with_scan_and_photo(ctx: Ctx) -> bytes:
    """Outlook: the workbook, the sealed scan (PDF) and a photo of the site."""
    return crlf(f"""From: "{word(ctx.name)}" <{ctx.email}>
To: <{ctx.office}>
In-Reply-To: {ctx.message_id}
Subject: {word(re_subject(ctx, "答复"))}
Date: {ctx.date}
Message-ID: <000101dacd1e$aa11bb22$cc33dd44$@{ctx.email.split('@')[1]}>
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_NextPart_000_0002_01DACD61.B8351B22"
X-Mailer: Microsoft Outlook 16.0

{text_part("------=_NextPart_000_0002_01DACD61.B8351B22", "附盖章扫描件和现场照片。", "gb2312")}

{attachment_block("------=_NextPart_000_0002_01DACD61.B8351B22", XLSX, word(ctx.file_name), ctx.workbook)}

{attachment_block("------=_NextPart_000_0002_01DACD61.B8351B22", 'application/pdf', word('盖章扫描件.pdf'), SCAN)}

{attachment_block("------=_NextPart_000_0002_01DACD61.B8351B22", 'image/jpeg', word('现场照片.jpg'), bytes.fromhex("ffd8ffe000104a464946") + b"photo")}

------=_NextPart_000_0002_01DACD61.B8351B22--
""")


def broken_headers(ctx: Ctx) -> bytes:
    """A mailer that writes ``Message-ID: <abc@`` (the modern email API raises IndexError on
    it), a Date nobody can parse and a bad encoded word in From: the return is still read."""
    return crlf(f"""Date: Mittwoch, 3. Juli 2024
From: =?utf-8?B?5Lq6?= <{ctx.email}>
To: {ctx.office}
Subject: {word(re_subject(ctx), "utf-8")}
Message-ID: <2024070310abc@
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="bh1"

--bh1
Content-Type: text/plain; charset=utf-8

ok
--bh1
Content-Type: application/octet-stream; name="{word(ctx.file_name, 'utf-8')}"
Content-Disposition: attachment; filename="{word(ctx.file_name, 'utf-8')}"
Content-Transfer-Encoding: base64

{b64(ctx.workbook)}
--bh1--
""")


def too_large(ctx: Ctx) -> bytes:
    """A registered unit sends a file over ``[limits] max_file_bytes`` (the test lowers it)."""
    big = b"PK\x03\x04" + bytes(range(256)) * 1200
    return crlf(f"""Date: {ctx.date}
From: <{ctx.email}>
To: <{ctx.office}>
In-Reply-To: {ctx.message_id}
Subject: {word(re_subject(ctx), "utf-8")}
Message-ID: <big.{ctx.email}>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="big1"

--big1
Content-Type: {XLSX}; name="{word(ctx.file_name, 'utf-8')}"
Content-Disposition: attachment; filename="{word(ctx.file_name, 'utf-8')}"
Content-Transfer-Encoding: base64

{b64(big)}
--big1--
""")


# --- replies that are not returns -------------------------------------------------------------

def outlook_later(ctx: Ctx) -> bytes:
    """Outlook on a laptop set to UTC: "附件稍后发送", no attachment (shown 10:15 China time)."""
    return crlf(f"""From: "{word(ctx.name)}" <{ctx.email}>
To: <{ctx.office}>
References: {ctx.message_id}
In-Reply-To: {ctx.message_id}
Subject: {word(re_subject(ctx, "答复"))}
Date: Wed, 3 Jul 2024 02:15:00 +0000
Message-ID: <000201dacd1f$11223344$55667788$@{ctx.email.split('@')[1]}>
MIME-Version: 1.0
Content-Type: text/plain;
\tcharset="gb2312"
Content-Transfer-Encoding: base64
X-Mailer: Microsoft Outlook 16.0

{b64("收到，数据正在汇总，附件稍后发送。".encode("gbk"))}
""")


def exchange_oof(ctx: Ctx) -> bytes:
    """Exchange out-of-office: ``Auto-Submitted: auto-replied``, subject ``自动答复:``."""
    return crlf(f"""From: {word(ctx.name, "gb2312")} <{ctx.email}>
To: office <{ctx.office}>
Subject: {word("自动答复: " + ctx.subject, "gb2312")}
Thread-Topic: {word(ctx.subject, "gb2312")}
Date: {ctx.date}
Message-ID: <a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d@{ctx.email.split('@')[1]}>
In-Reply-To: {ctx.message_id}
Auto-Submitted: auto-replied
X-MS-Exchange-Inbox-Rules-Loop: {ctx.email}
X-MS-Has-Attach:
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64
MIME-Version: 1.0

{b64("本人7月1日至7月10日休假，期间邮件不能及时处理。".encode("gbk"))}
""")


def qq_autoreply(ctx: Ctx) -> bytes:
    """QQ Mail's auto-reply: ``X-QQ-XAutoreply`` style headers and ``自动回复:``."""
    return crlf(f"""From: "{word(ctx.name, 'gb18030')}" <{ctx.email}>
To: "{ctx.office}" <{ctx.office}>
Subject: {word("自动回复: " + re_subject(ctx, "回复"), "gb18030")}
Mime-Version: 1.0
Content-Type: text/plain; charset="gb18030"
Content-Transfer-Encoding: base64
Date: {ctx.date}
X-Autoreply: yes
X-QQ-mid: bizesmtp11t1720000000abcd
Message-ID: <tencent_AUTOREPLY_1720000000@qq.com>

{b64("您好，邮件已收到，我会尽快处理。".encode("gb18030"))}
""")


def postfix_dsn(ctx: Ctx) -> bytes:
    """Postfix DSN (multipart/report) bouncing our message, workbook and all."""
    original = (f"From: office <{ctx.office}>\nTo: {ctx.email}\nSubject: {word(ctx.subject, 'utf-8')}\n"
                f"Message-ID: {ctx.message_id}\nMIME-Version: 1.0\n"
                "Content-Type: multipart/mixed; boundary=\"orig1\"\n\n--orig1\n"
                "Content-Type: text/plain; charset=utf-8\n\nhello\n--orig1\n"
                f"Content-Type: {XLSX}; name=\"{word(ctx.file_name, 'utf-8')}\"\n"
                "Content-Transfer-Encoding: base64\n"
                f"Content-Disposition: attachment; filename=\"{word(ctx.file_name, 'utf-8')}\"\n\n"
                f"{b64(ctx.blank)}\n--orig1--\n")
    return crlf(f"""Date: {ctx.date}
From: MAILER-DAEMON@mx.minshi.test (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {ctx.office}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="8C2D41A0F2.1720000000/mx.minshi.test"
Message-Id: <20240703021500.8C2D41A0F2@mx.minshi.test>

This is a MIME-encapsulated message.

--8C2D41A0F2.1720000000/mx.minshi.test
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.minshi.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{ctx.email}>: host mx.{ctx.email.split('@')[1]}[10.0.0.1] said: 550 5.1.1
    User unknown (in reply to RCPT TO command)

--8C2D41A0F2.1720000000/mx.minshi.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.minshi.test
X-Postfix-Queue-ID: 8C2D41A0F2
Arrival-Date: Wed,  3 Jul 2024 10:14:58 +0800 (CST)

Final-Recipient: rfc822; {ctx.email}
Original-Recipient: rfc822;{ctx.email}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.{ctx.email.split('@')[1]}
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--8C2D41A0F2.1720000000/mx.minshi.test
Content-Description: Undelivered Message
Content-Type: message/rfc822

{original}
--8C2D41A0F2.1720000000/mx.minshi.test--
""")


def coremail_bounce(ctx: Ctx) -> bytes:
    """163/Coremail's plain-text 系统退信 from postmaster, the original headers quoted below."""
    body = (f"您好，很遗憾，您发送的邮件未能送达以下收件人：\n\n{ctx.email}\n\n"
            "退信原因：收件人不存在（550 User not found）\n\n"
            f"------ 原始邮件 ------\nFrom: {ctx.office}\nTo: {ctx.email}\n"
            f"Subject: {ctx.subject}\n")
    return crlf(f"""Date: {ctx.date}
From: postmaster@163.com
To: {ctx.office}
Subject: {word("系统退信", "GB2312")}
Message-ID: <bounce.1720000000.{ctx.email.split('@')[0]}@163.com>
X-Coremail-Antispam: 1UD129KBjvJXoW7Xw4xZw4
MIME-Version: 1.0
Content-Type: text/plain; charset="GB2312"
Content-Transfer-Encoding: base64

{b64(body.encode("gbk"))}
""")


def qq_big_attachment(ctx: Ctx) -> bytes:
    """QQ Mail 超大附件: the file stays on QQ's transfer station, the mail carries a link."""
    html = (f"<div>报表见超大附件</div><div style=\"padding:10px\">从QQ邮箱发来的超大附件<br>"
            f"<a href=\"https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=2a3b4c"
            f"5d6e7f&code=1a2b3c4d\">{ctx.file_name}</a> (38.2K, 2024年7月17日 10:15 到期)</div>")
    return crlf(f"""From: "{word(ctx.name, 'gb18030')}" <{ctx.email}>
To: "{ctx.office}" <{ctx.office}>
Subject: {word(re_subject(ctx), "gb18030")}
Mime-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="----=_NextPart_668503A5_0B6D7F41_12AB34CD"
Date: {ctx.date}
Message-ID: <tencent_BIGATTACH_1720000001@qq.com>
X-QQ-mid: bizesmtp57t1720000001tqk8wbz2
X-Mailer: QQMail 2.x
In-Reply-To: {ctx.message_id}

{text_part("------=_NextPart_668503A5_0B6D7F41_12AB34CD", "报表见超大附件", "gb18030")}

------=_NextPart_668503A5_0B6D7F41_12AB34CD
Content-Type: text/html;
\tcharset="gb18030"
Content-Transfer-Encoding: base64

{b64(html.encode("gb18030"))}

------=_NextPart_668503A5_0B6D7F41_12AB34CD--
""")


def cloud_link(ctx: Ctx) -> bytes:
    """163 mail's 网盘/cloud-drive link instead of an attachment."""
    text = ("报表较大，已上传网盘：https://pan.baidu.com/s/1AbCdEfGhIjKlMnOp 提取码：x7k2\n")
    return crlf(f"""Date: {ctx.date}
From: {word(ctx.name, "UTF-8")} <{ctx.email}>
To: "{ctx.office}" <{ctx.office}>
Subject: {word("Re:" + ctx.subject, "UTF-8")}
X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20230424(3f8b3ef4)
Message-ID: <2b3c4d5e.6f70.190771a2b3d.Coremail.{ctx.email.split('@')[0]}@163.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

{b64(text.encode())}
""")


def forward_of_blank(ctx: Ctx) -> bytes:
    """The unit forwards our own mail back (Outlook "转发"): the workbook is the blank one."""
    return crlf(f"""From: "{word(ctx.name)}" <{ctx.email}>
To: <{ctx.office}>
Subject: {word("转发: " + ctx.subject)}
Date: {ctx.date}
Message-ID: <000301dacd20$22334455$66778899$@{ctx.email.split('@')[1]}>
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_NextPart_000_0003_01DACD63.30557799"
X-Mailer: Microsoft Outlook 16.0

{text_part("------=_NextPart_000_0003_01DACD63.30557799", "请问这个表怎么填？", "gb2312")}

{attachment_block("------=_NextPart_000_0003_01DACD63.30557799", XLSX, word(ctx.file_name), ctx.blank)}

------=_NextPart_000_0003_01DACD63.30557799--
""")


CASES: List[Case] = [
    Case("foxmail65-gb2312-split", "Foxmail 6.5", "accepted", foxmail65),
    Case("foxmail72-unquoted-name", "Foxmail 7.2", "accepted", foxmail72),
    Case("outlook2007-split-word", "Outlook 2007 zh-CN", "accepted", outlook2007),
    Case("exchange-tnef", "Outlook 2016 / Exchange", "accepted", outlook_exchange_tnef),
    Case("outlook2016-utf8-split", "Outlook 2016", "accepted", outlook2016_utf8),
    Case("qq-gb18030", "QQ Mail", "accepted", qq_mail),
    Case("coremail-163", "163 / Coremail", "accepted", coremail_163),
    Case("apple-alternative-inline", "Apple Mail", "accepted", apple_mail),
    Case("thunderbird-rfc2231-continuation", "Thunderbird", "accepted", thunderbird),
    Case("iphone-cut-name", "iPhone Mail", "accepted", iphone_cut_name),
    Case("android-fujian", "Android mail", "accepted", android_fujian),
    Case("raw-8bit-gbk", "OA gateway", "accepted", raw_gbk_headers),
    Case("mobile-163-xls", "163 Mail app (Android)", "accepted", mobile_163_xls, fmt="xls"),
    Case("oa-rar", "OA system", "accepted", oa_rar),
    Case("foxmail-7z", "Foxmail 7.2", "accepted", foxmail_7z),
    Case("forwarded-rfc822", "Thunderbird", "accepted", forwarded_rfc822),
    Case("registered-no-period", "any", "accepted", registered_no_period),
    Case("unknown-sender", "163 / Coremail", "accepted", unknown_sender),
    Case("scan-and-photo", "Outlook 2016", "accepted", with_scan_and_photo),
    Case("broken-headers", "a broken mailer", "accepted", broken_headers),
    Case("too-large", "any", "rejected:file-too-large", too_large),
    Case("outlook-later", "Outlook 2016", "mail-no-attachment", outlook_later),
    Case("exchange-oof", "Exchange", "mail-auto-reply", exchange_oof),
    Case("qq-autoreply", "QQ Mail", "mail-auto-reply", qq_autoreply),
    Case("postfix-dsn", "Postfix", "mail-bounced", postfix_dsn),
    Case("coremail-bounce", "163 / Coremail", "mail-bounced", coremail_bounce),
    Case("qq-big-attachment", "QQ Mail", "mail-link-only", qq_big_attachment),
    Case("cloud-drive-link", "163 / Coremail", "mail-link-only", cloud_link),
    Case("forward-of-blank", "Outlook 2016", "mail-own-workbook", forward_of_blank),
]
