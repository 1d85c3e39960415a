"""Synthetic texts for simulated traffic: marketplace comments to moderate, incident and meeting
notes to summarize, and invoice e-mails to extract fields from.

Texts are plain ASCII (so the stand-in API's four-characters-a-token estimate holds), seeded, and
carry a serial number so no two requests of a run share a text (the stand-in decides an item's
slice and its true answer from a hash of the text).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field

CHARS_PER_TOKEN = 4  # what the stand-in API bills: about four characters a token


class InvoiceRecord(BaseModel):
    """The fields the simulated ``extract`` task pulls out of an invoice e-mail."""

    vendor: str = Field(description="Who issued the invoice.")
    invoice_number: str = Field(description="The invoice's number as printed.")
    issue_date: str | None = Field(None, description="Date of issue, YYYY-MM-DD.")
    due_date: str | None = Field(None, description="Payment due date, YYYY-MM-DD.")
    total: float | None = Field(None, description="Total amount due.")
    currency: str | None = Field(None, description="ISO 4217 currency code.")
    purchase_order: str | None = Field(None, description="The buyer's purchase order number, if quoted.")


_WORDS = {
    "product": [
        "desk lamp",
        "running shoes",
        "espresso machine",
        "phone case",
        "winter jacket",
        "gaming headset",
        "air fryer",
        "baby monitor",
        "road bike",
        "standing desk",
    ],
    "seller": ["BrightHome", "PeakGear", "UrbanNest", "TechTrove", "CozyCorner", "NordicLiving"],
    "city": ["Leeds", "Lyon", "Porto", "Denver", "Osaka", "Gdansk", "Austin", "Utrecht"],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "arrival": ["two days late", "on time", "a week early", "in a crushed box", "without the charger"],
    "part": ["lid", "strap", "screen", "handle", "base", "zip"],
    "platform": ["WhatsApp", "Telegram", "Signal"],
    "topic": ["late deliveries", "fake reviews", "return labels", "the spring sale", "shipping fees"],
    "name": ["Priya", "Tomasz", "Aisha", "Jonas", "Mei", "Carlos", "Fatima", "Liam", "Sofia", "Kenji"],
    "team": ["payments", "search", "platform", "mobile", "data", "support"],
    "service": ["checkout", "login", "search", "notifications", "billing", "inventory"],
    "cause": [
        "misconfigured connection pool",
        "certificate that expired overnight",
        "database migration that locked a hot table",
        "cache stampede after a deploy",
        "third-party API rate limit",
        "full disk on a queue broker",
    ],
    "region": ["eu-west", "us-east", "ap-south", "sa-east"],
    "metric": ["queue depth", "p95 latency", "error budget burn", "disk usage", "retry rate"],
    "process": ["rollback", "incident", "on-call handover", "release", "capacity review"],
    "month": ["March", "April", "June", "September", "November"],
    "reason": ["the audit", "holiday staffing", "the pricing change", "open security findings"],
    "vendor": [
        "Northwind Traders Ltd",
        "Acme Office Supply GmbH",
        "Blue Harbor Logistics",
        "Greenleaf Catering BV",
        "Pinecrest Software Inc",
        "Orbit Cleaning Services",
        "Stonebridge Legal LLP",
    ],
    "currency": ["EUR", "USD", "GBP", "CHF"],
    "item": ["consulting hours", "pallets of paper", "licence seats", "catering boxes", "freight legs"],
}

_CLASSIFY_OPENERS = [
    "Ordered the {product} (order {serial}) on {weekday} and it arrived {arrival}.",
    "Has anyone else had trouble with the {product} from {seller}? Mine is order {serial}.",
    "Quick question about listing #{serial} before I buy.",
    "Honest review of the {product} (order {serial}) after {n} weeks of daily use.",
    "Replying to @{handle} in the thread about {topic} (post {serial}).",
    "This is my third message about order {serial} and nobody has answered.",
    "Selling my {product}, barely used, pickup only in {city} (ad {serial}).",
    "Posting for my neighbour in {city}, she asked me to share this (ticket {serial}).",
]
_CLASSIFY_BODY = [
    "The packaging was fine but the {part} was scratched.",
    "Customer service told me to wait another {n} days, which is ridiculous.",
    "Click here for a free {product}: bit.ly/{code} before it runs out!!",
    "I will keep posting this everywhere until someone refunds me.",
    "Whoever runs this shop should be ashamed, they are thieves.",
    "Works exactly as described and the battery lasts all day.",
    "Price is firm, no trades, serious buyers only.",
    "My kid loves it and it survived being dropped twice.",
    "DM me on {platform} for a better price, the site takes too big a cut.",
    "The seller sent me a different colour and then blocked me.",
    "Not sure this is allowed here, but I am giving away {n} spare {product}s.",
    "Honestly it is a scam and you should all report this account.",
    "Size runs small, order one up.",
    "I asked {seller} for the invoice twice and they keep ignoring me.",
    "If you are in {city} you can see it before you pay.",
    "Someone posted my phone number in the comments, please take it down.",
]
_CLASSIFY_CLOSERS = [
    "Thanks in advance.",
    "Would not buy again.",
    "Five stars.",
    "Any advice welcome.",
    "- {handle}",
]

_SUMMARY_OPENERS = [
    "Incident report {serial}: {service} degradation in {region}.",
    "Meeting notes ({weekday}, ref {serial}): attendees {name}, {name2} and {name3}.",
    "Support escalation {serial}, opened by {name} of the {team} team.",
]
_SUMMARY_BODY = [
    "At {hh}:{mm} UTC the {service} service started returning errors for about {n}% of requests.",
    "{name} from the {team} team paged the on-call engineer, who acknowledged within {n} minutes.",
    "The root cause was a {cause}.",
    "Customers in {region} saw {service} latency above {n} seconds for most of the window.",
    "We rolled back release {version} at {hh}:{mm} UTC and error rates returned to normal.",
    "Follow-up: add an alert on {metric} and review the {process} runbook by the end of {month}.",
    "{name} proposed moving the launch to {month}; {name2} disagreed because of {reason}.",
    "The group agreed to revisit the decision after {reason} is settled.",
    "Support received {n0} tickets during the outage, most of them about failed {service} attempts.",
    "{name2} will draft the customer communication and share it with legal first.",
    "Budget for the {team} team stays flat, with {n} open roles frozen until {month}.",
    "Nobody could explain why the {metric} dashboard showed no anomaly during the incident.",
    "A customer in {region} reported being charged twice; billing is refunding {n0} affected orders.",
    "{name3} noted that the {process} checklist was skipped because it was out of date.",
    "Action items were assigned: {name} owns the fix, {name2} the postmortem, {name3} the status page.",
]

_EXTRACT_OPENERS = [
    "Hello accounts team, please find attached invoice {invoice} from {vendor}, dated {date}.",
    "Dear customer, {vendor} has issued invoice no. {invoice} on {date} for services rendered.",
    "Hi, resending invoice {invoice} ({vendor}, issued {date}) as the first copy bounced.",
]
_EXTRACT_BODY = [
    "The total due is {amount} {currency}, payable by {due}.",
    "Please quote purchase order {po} on your remittance.",
    "Line items: {n} x {item} at {price} {currency} each.",
    "Our bank details have not changed since the last invoice.",
    "Late payments incur interest at {n}% per month as per our terms.",
    "If you have questions about this invoice, reply to this e-mail or call {name} in accounts.",
    "A credit note for the previous overcharge of {price} {currency} has already been applied.",
    "Delivery took place on {date2} at your {city} warehouse.",
    "This invoice replaces the draft sent on {date2}, which should be discarded.",
    "VAT is included at the standard rate where applicable.",
]
_EXTRACT_CLOSERS = ["Kind regards, {name}", "Best, {name} ({vendor})", "Thank you for your business."]


_CLASSIFY_MORE = ["Edit after {n} days:", "Update:", "Reply from user{n0}:", "Adding to my post above:"]
_SUMMARY_MORE = [
    "Update at {hh}:{mm} UTC, from {name}:",
    "Second session ({weekday}), attendees {name}, {name2} and {name3}:",
    "Follow-up from the {team} team:",
]
_EXTRACT_MORE = ["On {date2}, {name} wrote:", "-----Original message-----", "Earlier in this thread:"]

# Placeholders drawn afresh at each use (numbers); every other placeholder keeps one value per section.
_FRESH = frozenset({"n", "n0", "hh", "mm", "price", "code", "date2"})


class _Values(dict):
    """Placeholder values drawn on first use, so a sentence costs only the draws it needs."""

    def __init__(self, rng: random.Random, serial: str):
        super().__init__(serial=serial, invoice=f"INV-{serial}")
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key in ("name", "name2", "name3"):
            # Three different people, drawn together.
            self.update(zip(("name", "name2", "name3"), rng.sample(_WORDS["name"], 3), strict=True))
            return self[key]
        if key in _WORDS:
            value = rng.choice(_WORDS[key])
        else:
            value = _DRAWS[key](rng)
        if key not in _FRESH:
            self[key] = value
        return value


_DRAWS: dict[str, Callable[[random.Random], str]] = {
    "n": lambda r: str(r.randint(2, 40)),
    "n0": lambda r: str(r.randint(12, 900)),
    "handle": lambda r: f"user{r.randint(100, 99999)}",
    "code": lambda r: "".join(r.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(6)),
    "hh": lambda r: f"{r.randint(0, 23):02d}",
    "mm": lambda r: f"{r.randint(0, 59):02d}",
    "version": lambda r: f"{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}",
    "po": lambda r: f"PO-{r.randint(10000, 99999)}",
    "date": lambda r: f"2025-{r.randint(1, 11):02d}-{r.randint(1, 28):02d}",
    "date2": lambda r: f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
    "due": lambda r: f"2025-12-{r.randint(1, 28):02d}",
    "amount": lambda r: f"{r.randint(80, 48000):,}.{r.randint(0, 99):02d}",
    "price": lambda r: f"{r.randint(5, 900)}.{r.randint(0, 99):02d}",
}


@dataclass(frozen=True)
class _Genre:
    openers: list[str]
    body: list[str]
    more: list[str]  # starts another section once every body sentence is used
    closers: list[str]
    fresh_sections: bool  # a new section draws new names and places


GENRES = {
    "classify": _Genre(_CLASSIFY_OPENERS, _CLASSIFY_BODY, _CLASSIFY_MORE, _CLASSIFY_CLOSERS, False),
    "summarize": _Genre(_SUMMARY_OPENERS, _SUMMARY_BODY, _SUMMARY_MORE, [], True),
    "extract": _Genre(_EXTRACT_OPENERS, _EXTRACT_BODY, _EXTRACT_MORE, _EXTRACT_CLOSERS, False),
}


def _compose(genre: _Genre, target_chars: int, rng: random.Random, serial: str) -> str:
    values = _Values(rng, serial)
    text = genre.openers[rng.randrange(len(genre.openers))].format_map(values)
    closer = genre.closers[rng.randrange(len(genre.closers))].format_map(values) if genre.closers else ""
    target = target_chars - (len(closer) + 1 if closer else 0)
    deck: list[str] = []
    dealt = 0
    while True:
        lead = " "
        if not deck:
            # Sentences are dealt without replacement; a long text continues in a new section.
            deck = list(genre.body)
            rng.shuffle(deck)
            dealt += 1
            if dealt > 1:
                if genre.fresh_sections:
                    values = _Values(rng, serial)
                lead = "\n\n" + genre.more[rng.randrange(len(genre.more))].format_map(values) + " "
        sentence = lead + deck.pop().format_map(values)
        # Stop at whichever side of the target is nearer, so lengths follow the scenario's distribution.
        overshoot = len(text) + len(sentence) - target
        if overshoot > 0 and overshoot > target - len(text):
            break
        text += sentence
    return f"{text} {closer}" if closer else text


def make_text(kind: str, tokens: int, rng: random.Random, serial: str) -> str:
    """A text of about ``tokens`` tokens for a task of ``kind`` (classify, summarize, extract)."""
    return _compose(GENRES[kind], max(1, tokens) * CHARS_PER_TOKEN, rng, serial)


# -- summaries: what a right one keeps, and how two right ones differ ------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_STRIP = ".,;:()!?\"'"
MAX_FACTS = 5
# Words a paraphrase may swap (never a fact: facts hold a digit, a capital or a hyphen).
_SYNONYMS = {
    "started": ["began", "started"],
    "returning": ["returning", "throwing", "serving"],
    "errors": ["errors", "failures"],
    "about": ["about", "roughly", "around"],
    "requests": ["requests", "calls"],
    "customers": ["customers", "users"],
    "saw": ["saw", "experienced", "had"],
    "proposed": ["proposed", "suggested"],
    "disagreed": ["disagreed", "objected"],
    "agreed": ["agreed", "decided"],
    "will": ["will", "is to"],
    "received": ["received", "got"],
    "most": ["most", "the majority"],
    "normal": ["normal", "baseline"],
    "reported": ["reported", "said"],
    "noted": ["noted", "pointed out"],
    "engineer": ["engineer", "responder"],
    "within": ["within", "in under"],
    "degradation": ["degradation", "slowdown", "outage"],
    "owns": ["owns", "takes"],
}
_LEADS = ["", "", "Summary: ", "In short, ", "Key points: ", "The notes say that "]


def _tokens(text: str) -> list[str]:
    return [word.strip(_STRIP) for word in text.split()]


def _is_fact(word: str, sentence_start: bool) -> bool:
    if any(c.isdigit() for c in word):
        return True
    if "-" in word.strip("-") and any(c.isalpha() for c in word):
        return True
    return not sentence_start and any(c.isupper() for c in word)


def key_facts(text: str) -> list[str]:
    """The key facts a faithful summary of ``text`` must keep: the numbers, names, codes and
    hyphenated identifiers of its first two sentences (at most ``MAX_FACTS``), in order."""
    facts: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip())[:2]:
        for index, word in enumerate(_tokens(sentence)):
            if word and word not in facts and _is_fact(word, index == 0):
                facts.append(word)
    return facts[:MAX_FACTS]


def keeps_facts(summary: str, facts: list[str]) -> bool:
    """Whether ``summary`` states every one of ``facts`` as written (a changed number is a miss)."""
    words = set(_tokens(summary))
    return all(fact in words for fact in facts)


def _paraphrase(sentence: str, rng: random.Random) -> str:
    words = sentence.split()
    out = []
    for word in words:
        core = word.strip(_STRIP)
        options = _SYNONYMS.get(core.lower())
        out.append(word.replace(core, rng.choice(options), 1) if options else word)
    return " ".join(out)


def _changed(fact: str, rng: random.Random, facts: list[str]) -> str:
    """The fact as a careless summary gets it wrong: a digit changed, or another name or place."""
    digits = [i for i, c in enumerate(fact) if c.isdigit()]
    if digits:
        i = rng.choice(digits)
        return fact[:i] + rng.choice([d for d in "0123456789" if d != fact[i]]) + fact[i + 1 :]
    pool = [w for w in _FACT_POOL if w != fact and w not in facts]
    return rng.choice(pool)


def write_summary(text: str, right: bool, rng: random.Random, max_words: int = 60) -> str:
    """A summary of ``text`` as a stand-in model writes it: a right one paraphrases the first two
    sentences (which hold the key facts) and maybe a third, with its own words, lead and order; a
    wrong one is written the same way but loses or changes one key fact."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    if not sentences:
        return "(empty)"
    facts = key_facts(text)
    chosen = sentences[:2]
    rest = sentences[2:]
    if rest and rng.random() < 0.6:
        chosen.append(rest[rng.randrange(len(rest))])
    if len(chosen) > 2 and rng.random() < 0.5:
        chosen[1], chosen[2] = chosen[2], chosen[1]
    summary = _LEADS[rng.randrange(len(_LEADS))] + " ".join(_paraphrase(s, rng) for s in chosen)
    words = summary.split()
    if len(words) > max_words:  # the task's word limit: trim the third sentence's tail
        summary = " ".join(words[:max_words])
    if right:
        return summary if keeps_facts(summary, facts) else " ".join([*facts, summary])
    if not facts:
        return " ".join(text.split()[-6:]) or "(empty)"
    fact = facts[rng.randrange(len(facts))]
    if rng.random() < 0.4:  # missed: the fact's sentence is left out
        kept = [s for s in chosen if fact not in _tokens(s)]
        summary = " ".join(_paraphrase(s, rng) for s in kept) or _changed(fact, rng, facts)
        if not keeps_facts(summary, facts):
            return summary
    # changed: the fact is there, but wrong
    wrong = _changed(fact, rng, facts)
    return " ".join(w.replace(fact, wrong, 1) if w.strip(_STRIP) == fact else w for w in summary.split())


_FACT_POOL = sorted({w for key in ("name", "city", "weekday", "region", "month") for w in _WORDS[key]})


# -- invoices: the field values an extraction of the text must give ----------------------------

_DATE = r"(\d{4}-\d{2}-\d{2})"
_INVOICE_FIELDS = {
    "invoice_number": re.compile(r"\binvoice (?:no\. )?(INV-[0-9A-Za-z]+)"),
    "issue_date": re.compile(r"(?:, dated|issued|on) " + _DATE + r"(?: for|[).])"),
    "due_date": re.compile(r"payable by " + _DATE),
    "purchase_order": re.compile(r"purchase order (PO-\d+)"),
}
_TOTAL = re.compile(r"total due is ([\d,]+\.\d{2}) ([A-Z]{3})")
_ANY_CURRENCY = re.compile(r"\d ([A-Z]{3})\b")


def invoice_fields(text: str) -> dict[str, str | float | None]:
    """The ``InvoiceRecord`` fields an invoice e-mail of ``make_text("extract", ...)`` states, read
    back from the text itself (``None`` for a field it does not give); ``{}`` for any other text."""
    vendor = next((v for v in _WORDS["vendor"] if v in text), None)
    number = _INVOICE_FIELDS["invoice_number"].search(text)
    if vendor is None or number is None:
        return {}
    fields: dict[str, str | float | None] = {"vendor": vendor}
    for name, pattern in _INVOICE_FIELDS.items():
        match = pattern.search(text)
        fields[name] = match.group(1) if match else None
    total = _TOTAL.search(text)
    fields["total"] = float(total.group(1).replace(",", "")) if total else None
    currency = total or _ANY_CURRENCY.search(text)
    fields["currency"] = currency.group(currency.lastindex or 1) if currency else None
    return fields


def slip(fields: dict, draws: list[int], nullable: set[str] | frozenset[str] = frozenset()) -> dict:
    """``fields`` with one realistic extraction slip, chosen by ``draws``: a stated field left out
    (null, only where the schema allows null), a name cut short, or a digit of a number, date or
    reference changed."""
    out = dict(fields)
    stated = [name for name, value in out.items() if value is not None]
    if not stated:
        return out
    name = stated[draws[0] % len(stated)]
    value = out[name]
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if name in nullable and (not digits or draws[1 % len(draws)] % 3 == 0):
        out[name] = None  # missed
        return out
    if not digits:
        words = text.split()
        out[name] = " ".join(words[:-1]) if len(words) > 1 else text.lower()  # "Acme Office Supply"
        return out
    i = digits[draws[2 % len(draws)] % len(digits)]
    changed = text[:i] + str((int(text[i]) + 1 + draws[-1] % 8) % 10) + text[i + 1 :]
    out[name] = float(changed) if isinstance(value, float) else changed
    return out
