"""Email: send the fill-in workbooks, fetch the returns from a mailbox, remind missing units.

The parts: :mod:`.outgoing` builds the messages we send, :mod:`.incoming` reads the messages
units send back (every mail client's quirks, as a table of cases), :mod:`.transport` holds the
SMTP and IMAP sessions, and :mod:`.sending`, :mod:`.fetching`, :mod:`.reminding` are the three
commands. Every message sent is a row of the ledger's ``sends`` table and every message fetched
a row of ``fetched``, so reruns neither mail a unit twice nor ingest a message twice. Passwords
come only from the environment variable the config names (``smtp.password_env``,
``imap.password_env``); they are never printed, logged or stored. Without an SMTP host (or with
an outbox / dry run) messages are written as .eml files instead, so the whole cycle works on a
machine with no mail server.
"""
from minshi_xls.mail.common import (deadline, period_label, template_path,
                                    workbook_deadline)
from minshi_xls.mail.fetching import FetchResult, fetch
from minshi_xls.mail.incoming import decode_name, period_pattern, structure_names
from minshi_xls.mail.outgoing import (POLICY, attachment_part, build_message,
                                      encoded_words, send_body)
from minshi_xls.mail.reminding import (UnitState, remind, remind_body,
                                       reminder_attachment, unit_states)
from minshi_xls.mail.sending import STATUS_LABELS, Delivery, SendResult, send
from minshi_xls.mail.transport import imap_utf7

__all__ = ["send", "fetch", "remind", "SendResult", "FetchResult", "Delivery", "STATUS_LABELS",
           "UnitState", "unit_states", "remind_body", "reminder_attachment", "build_message",
           "attachment_part", "encoded_words", "send_body", "POLICY", "decode_name",
           "period_pattern", "structure_names", "imap_utf7", "deadline", "period_label",
           "template_path", "workbook_deadline"]
