"""The lead's own words a draft may repeat (name, company, role, website), checked before use.

Record fields come from forms and CRM exports, so they can hold anything: a value that looks
like an instruction, markup or a paragraph is left out rather than echoed into a message.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tools.guardrails.injection import injection_signals
from tools.schemas import LeadBrief

_NAME = re.compile(r"^[^\W\d_][^\W\d_' .-]{0,29}$")
_FIELD_BAD_CHARS = re.compile(r"[<>{}\[\]|`\\@#\n\r\t]")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

# Mailbox providers: an address there says nothing about the lead's company.
FREE_MAIL_DOMAINS = frozenset([
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.in", "yahoo.co.uk", "ymail.com",
    "rocketmail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "msn.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me",
    "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "yandex.com", "yandex.ru", "zoho.com",
    "zohomail.com", "rediffmail.com", "qq.com", "163.com", "126.com", "sina.com", "naver.com",
    "hey.com", "fastmail.com", "tutanota.com", "mail.ru", "inbox.com",
])  # fmt: skip


def first_name(lead: LeadBrief) -> str | None:
    """The lead's first name if it looks like one (letters, up to 30), nicely capitalised."""
    name = " ".join((lead.first_name or "").split())
    if not name or not _NAME.match(name) or injection_signals(name):
        return None
    if name.islower() or name.isupper():
        name = name.title()
    return name


def company(lead: LeadBrief) -> str | None:
    return _short_field(lead.company, 60)


def role(lead: LeadBrief) -> str | None:
    return _short_field(lead.role, 60)


# Roles that say where someone is in life rather than which job they hold: "a career changer",
# never "you work as a Career changer at ...".
LIFE_STAGES = frozenset(
    {"student", "career changer", "returning professional", "job seeker", "unemployed",
     "homemaker", "housewife", "retired", "graduate", "fresher"}
)  # fmt: skip


def is_life_stage(role: str) -> bool:
    return " ".join(role.split()).casefold() in LIFE_STAGES


def role_phrase(role: str) -> str:
    """The role with its article as prose says it: 'a Data Analyst', 'a career changer'."""
    return with_article(role.lower() if is_life_stage(role) else role)


def with_article(noun: str) -> str:
    """'a Data Analyst', 'an Analyst', 'an HR Manager' (acronyms by their spoken letter)."""
    first_word = noun.split()[0]
    if len(first_word) > 1 and first_word.isupper():
        vowel_sound = first_word[0] in "AEFHILMNORSX"
    else:
        vowel_sound = first_word[0].lower() in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {noun}"


def website(lead: LeadBrief) -> str | None:
    """The lead's company site as an https URL, when the record has a usable one."""
    raw = (lead.website or "").strip()
    if not raw:
        return None
    host = urlsplit(raw if "://" in raw else f"https://{raw}").hostname or ""
    host = host.lower().removeprefix("www.")
    if not _DOMAIN.match(host) or host in FREE_MAIL_DOMAINS:
        return None
    return f"https://{host}"


def company_website(email: str | None) -> str | None:
    """`https://acme.com` for `ana@acme.com`; None for free-mail or malformed addresses.

    The context builder uses it to fill `LeadBrief.website` when the record has no site.
    """
    if not email or email.count("@") != 1:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    if not _DOMAIN.match(domain) or domain in FREE_MAIL_DOMAINS:
        return None
    return f"https://{domain.removeprefix('www.')}"


def _short_field(value: str | None, limit: int) -> str | None:
    text = " ".join((value or "").split())
    if not text or len(text) > limit or _FIELD_BAD_CHARS.search(text):
        return None
    if text.lower() in {"select", "n/a", "na", "none", "null", "unknown", "-", "other"}:
        return None  # placeholders from web forms and CRM exports
    if injection_signals(text):
        return None
    return text
