"""A realistic, seeded, deterministic demo history: several months, owners,
sources and campaigns, every stage, wins and losses. Same seed and end month,
same events (business times and ids); only recording times differ."""

import random
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

from domain.actor import current_actor
from domain.lead import Lead

FIRST = [
    "Lucía",
    "Hugo",
    "Martina",
    "Pablo",
    "Sofía",
    "Álvaro",
    "Paula",
    "Diego",
    "Elena",
    "Adrián",
    "Carla",
    "Mario",
    "Irene",
    "Sergio",
    "Noa",
    "Raúl",
    "Laura",
    "Iván",
    "Claudia",
    "Jorge",
]
LAST = [
    "García",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Navarro",
    "Torres",
    "Domínguez",
    "Ramos",
    "Gil",
    "Serrano",
]
COMPANIES = [
    "Iberlogística",
    "Talleres Norte",
    "Clínica Sol",
    "Bodegas Ebro",
    "Software Mar",
    "Hostal Centro",
    "Grupo Atlas",
    "Óptica Plaza",
    "Agro Levante",
    "Estudio Lumen",
    "Academia Nova",
    "Muebles Rivera",
    "Frío Industrial",
    "Textil Aragón",
    "Viajes Brisa",
]
SOURCES = [
    ("organic_search", 26),
    ("paid_search", 20),
    ("social", 14),
    ("email", 12),
    ("referral", 10),
    ("events", 8),
    ("outbound", 10),
]
CAMPAIGNS = {
    "organic_search": ["blog-seo"],
    "paid_search": ["google-ads-crm", "google-ads-sla"],
    "social": ["linkedin-ads"],
    "email": ["newsletter", "nurturing-ebook"],
    "referral": ["partners"],
    "events": ["webinar-smarketing-101", "feria-digital"],
    "outbound": ["prospeccion-q"],
}
PERSONAS = ["Directora de marketing", "Gerente comercial", "CEO de pyme", ""]
# The shared vocabulary both teams agreed with the SLA: the personas the leads are
# tagged with, and what makes a lead an MQL or an SQL.
PERSONA_TEXTS = {
    "Directora de marketing": {
        "description": "Dirige el marketing de una empresa de 50 a 500 empleados; responde ante "
        "dirección por los ingresos que genera su equipo.",
        "pains": "No sabe qué campañas acaban en ventas; ventas dice que sus leads no valen.",
        "signals": "Descarga guías de atribución, asiste a webinars, visita la página de precios.",
    },
    "Gerente comercial": {
        "description": "Lleva un equipo de 3 a 15 comerciales y su previsión de ventas.",
        "pains": "Su equipo pierde tiempo con leads fríos; no ve el historial de un lead antes de llamarlo.",
        "signals": "Pide una demo, pregunta por la integración con su CRM o su ERP.",
    },
    "CEO de pyme": {
        "description": "Dirige una empresa de menos de 50 personas y decide la compra él o ella.",
        "pains": "Marketing y ventas son dos o tres personas que no comparten datos ni objetivos.",
        "signals": "Llega por recomendación o por una feria; pregunta por el precio en la primera visita.",
    },
}
CRITERIA_TEXTS = {
    "MQL": "Encaja con un buyer persona (empresa de 10 a 500 empleados en España, con nombre, e-mail de "
    "empresa y cargo) y ha mostrado interés: pidió una demo o precios, o ha sumado la puntuación "
    "acordada en el acuerdo (formularios, webinars, visitas a precios) en los últimos 30 días.",
    "SQL": "Ventas lo ha confirmado en una conversación: necesidad real, presupuesto para este año, "
    "acceso a quien decide y plazo de compra de menos de seis meses.",
}
MARKETERS = ["carmen.ruiz", "andres.soler"]
REPS = ["lucia.romero", "javier.ortega", "marta.gil", "daniel.vidal"]
REJECT_REASONS = [
    "Sin presupuesto este año",
    "No es el decisor",
    "Empresa demasiado pequeña",
    "Solo buscaba información",
]
LOST_REASONS = ["Eligió a la competencia", "Precio", "Proyecto aplazado", "Sin respuesta tras propuesta"]
INTERACTIONS = [
    ("email_opened", "email"),
    ("email_clicked", "email"),
    ("content_downloaded", "web"),
    ("web_visit", "web"),
    ("webinar", "web"),
    ("form_submitted", "web"),
    ("campaign_touch", "social"),
]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def months_back(end_month: str, count: int) -> list[tuple[int, int]]:
    year, month = map(int, end_month.split("-"))
    result = []
    for _ in range(count):
        result.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return result[::-1]


class _Story:
    """Plays one lead's life forward, stopping at ``now``."""

    def __init__(self, lead: Lead, rng: random.Random, now: datetime) -> None:
        self.lead, self.rng, self.now = lead, rng, now
        self.t = lead.captured_at

    def later(self, hours: float) -> bool:
        self.t = self.t + timedelta(hours=hours)
        return self.t <= self.now

    def act(self, actor: str, command: str, **kwargs: object) -> None:
        token = current_actor.set(actor)
        try:
            getattr(self.lead, command)(occurred_at=self.t, **kwargs)
        finally:
            current_actor.reset(token)


def _play(story: _Story, rng: random.Random) -> None:
    marketer = rng.choice(MARKETERS)
    rep = rng.choice(REPS)
    for _ in range(rng.randint(1, 4)):
        if not story.later(rng.uniform(2, 72)):
            return
        kind, channel = rng.choice(INTERACTIONS)
        story.act(marketer, "record_interaction", kind=kind, channel=channel)
    if story.lead.source == "outbound" or rng.random() < 0.04:
        if not story.later(rng.uniform(1, 24)):
            return
        story.act(rep, "assign_owner", owner=rep, team="sales")
        story.act(
            rep, "change_stage", to_stage="SQL", reason="Contacto directo de ventas con necesidad clara"
        )
    else:
        if rng.random() > 0.62 or not story.later(rng.uniform(12, 240)):
            if rng.random() < 0.15 and story.later(rng.uniform(100, 300)):
                story.act(
                    marketer, "change_stage", to_stage="Disqualified", reason="Datos de contacto falsos"
                )
            return
        story.act(marketer, "change_stage", to_stage="MQL")
        story.act(marketer, "assign_owner", owner=rep, team="sales")
        attempts = rng.choice([1, 1, 2, 2, 3, 3, 4, 5])
        for i in range(attempts):
            delay = rng.lognormvariate(1.0, 1.4) if i == 0 else rng.uniform(20, 72)
            if not story.later(delay):
                return
            outcome = (
                "connected"
                if i == attempts - 1 and rng.random() < 0.7
                else rng.choice(["no_answer", "left_message"])
            )
            story.act(rep, "attempt_contact", channel=rng.choice(["phone", "email"]), outcome=outcome)
        roll = rng.random()
        if roll < 0.14:
            story.act(rep, "reject_mql", reason=rng.choice(REJECT_REASONS))
            return
        if roll < 0.24:
            story.act(
                rep, "change_stage", to_stage="Disqualified", reason="Sin respuesta tras varios intentos"
            )
            if rng.random() < 0.4 and story.later(rng.uniform(200, 600)):
                story.act(marketer, "change_stage", to_stage="Recycled")
                story.act(marketer, "change_stage", to_stage="Lead")
            return
        if roll > 0.78 or not story.later(rng.uniform(24, 200)):
            return
        story.act(rep, "change_stage", to_stage="SQL")
    if rng.random() < 0.12:
        if story.later(rng.uniform(48, 300)):
            story.act(rep, "lose_deal", reason=rng.choice(LOST_REASONS))
        return
    if rng.random() > 0.65 or not story.later(rng.uniform(48, 300)):
        return
    story.act(rep, "change_stage", to_stage="Opportunity")
    story.act(rep, "record_interaction", kind="meeting", channel="in_person")
    if not story.later(rng.uniform(72, 500)):
        return
    roll = rng.random()
    if roll < 0.45:
        amount = rng.randrange(1500, 25000, 50)
        story.act(rep, "win_deal", amount=amount, currency="EUR")
    elif roll < 0.8:
        story.act(rep, "lose_deal", reason=rng.choice(LOST_REASONS))


def demo_leads(
    end_month: str, now: datetime, tz: ZoneInfo, seed: int = 42, months: int = 6
) -> Iterator[Lead]:
    rng = random.Random(seed)
    sources, weights = zip(*SOURCES, strict=True)
    index = 0
    for n, (year, month) in enumerate(months_back(end_month, months)):
        start = datetime(year, month, 1, tzinfo=tz)
        for _ in range(90 + 12 * n):
            index += 1
            captured = start + timedelta(days=rng.randrange(28), hours=rng.uniform(8, 19))
            source = rng.choices(sources, weights)[0]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = rng.choice(COMPANIES)
            if captured > now:
                rng.random()  # keep the sequence stable whatever the day
                continue
            token = current_actor.set(rng.choice(MARKETERS))
            try:
                lead = Lead.capture(
                    uuid5(NAMESPACE_URL, f"smarketing:demo:{seed}:{index}"),
                    name=f"{first} {last}",
                    email=_ascii(f"{first}.{last}.{index}@example.com".lower()),
                    phone=f"+34 6{rng.randrange(10_000_000, 99_999_999)}",
                    company=company,
                    source=source,
                    campaign=rng.choice(CAMPAIGNS[source]),
                    landing_page=f"/lp/{rng.choice(['demo', 'ebook-sla', 'precios', 'webinar'])}",
                    persona=rng.choice(PERSONAS),
                    occurred_at=captured,
                )
            finally:
                current_actor.reset(token)
            _play(_Story(lead, random.Random(rng.random()), now), rng)
            yield lead


DEMO_SLA = [
    ("revenue_goal", "150000"),
    ("marketing_revenue", "120000"),
    ("mqls_delivered", "65"),
    ("avg_deal_per_opportunity", "6000"),
    ("lead_to_customer", "0.10"),
    ("follow_up_hours", "24"),
    ("follow_up_share", "0.90"),
    ("attempts_per_mql", "3"),
    ("attempts_window_days", "7"),
    ("sales_conversion", "0.20"),
]


def demo_targets(end_month: str, months: int = 6) -> list[tuple[str, str, str, str]]:
    """The demo's SLA: agreed in the first month, one target revised half-way through."""
    history = [f"{year:04d}-{month:02d}" for year, month in months_back(end_month, months)]
    targets = [
        (history[0], metric, value, "Acuerdo SLA inicial entre marketing y ventas")
        for metric, value in DEMO_SLA
    ]
    if len(history) >= 2:
        reason = "Más presupuesto para webinars: marketing se compromete a más MQLs"
        targets.append((history[len(history) // 2], "mqls_delivered", "70", reason))
    return targets


def target_set_at(month: str, tz: ZoneInfo, now: datetime) -> datetime:
    """When the demo agreed a month's targets: its first morning, never after ``now``."""
    year, number = map(int, month.split("-"))
    return min(datetime(year, number, 1, 9, tzinfo=tz), now)
