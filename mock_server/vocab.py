"""A fixed English vocabulary and sentence shapes for the mock's completions.

Fixed on purpose: the text is a pure function of the seeded rng, so changing this file changes
every planned completion (and should be done knowingly). ASCII only, so every token decodes to a
whole string and the streamed chunks join to exactly the decoded text.
"""

from __future__ import annotations

import random

DETERMINERS = ("the", "a", "this", "each", "every", "our", "that", "one")
ADJECTIVES = (
    "simple", "careful", "stable", "recent", "common", "useful", "clear", "small", "large",
    "new", "early", "final", "main", "public", "local", "quick", "slow", "strong", "better",
    "shared", "typical", "reliable", "modern", "practical", "specific", "general", "direct",
    "helpful", "hidden", "open", "complete", "basic", "key", "extra", "previous", "next",
)
NOUNS = (
    "system", "process", "request", "answer", "model", "result", "method", "question", "team",
    "service", "record", "value", "change", "report", "plan", "step", "user", "customer",
    "server", "cache", "policy", "budget", "project", "design", "version", "option", "feature",
    "problem", "solution", "example", "summary", "document", "message", "account", "order",
    "product", "market", "network", "database", "test", "release", "schedule", "review",
    "decision", "detail", "metric", "pattern", "workflow", "query", "session", "response",
    "approach", "reason", "source", "context", "limit", "window", "estimate",
)
VERBS = (
    "improves", "changes", "explains", "supports", "reduces", "checks", "describes", "follows",
    "needs", "shows", "handles", "updates", "returns", "keeps", "measures", "covers", "builds",
    "uses", "compares", "tracks", "limits", "creates", "reviews", "starts", "requires",
    "includes", "answers", "moves", "avoids", "confirms", "extends", "matches", "sends",
)
PREPOSITIONS = ("for", "with", "in", "on", "after", "before", "during", "without", "from",
                "across", "under", "through")
CONNECTIVES = ("and", "but", "so", "while", "because", "although")
OPENERS = ("In practice,", "For example,", "As a result,", "In short,", "However,", "First,",
           "Then,", "Finally,", "In most cases,", "To be clear,")


def noun_phrase(rng: random.Random) -> list[str]:
    words = [rng.choice(DETERMINERS)]
    if rng.random() < 0.5:
        words.append(rng.choice(ADJECTIVES))
    words.append(rng.choice(NOUNS))
    return words


def clause(rng: random.Random) -> list[str]:
    words = [*noun_phrase(rng), rng.choice(VERBS), *noun_phrase(rng)]
    if rng.random() < 0.5:
        words += [rng.choice(PREPOSITIONS), *noun_phrase(rng)]
    return words


def sentence(rng: random.Random) -> str:
    """One sentence such as "In practice, the simple system improves a request for each user." """
    words = clause(rng)
    if rng.random() < 0.3:
        words += [rng.choice(CONNECTIVES), *clause(rng)]
    if rng.random() < 0.3:
        words = [*rng.choice(OPENERS).split(), *words]
    else:
        words[0] = words[0].capitalize()
    return " ".join(words) + "."
