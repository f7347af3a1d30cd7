// Realistic customer messages, generated locally (no data set): names, emails, phone numbers, order ids and
// URLs in varied wording, so the text-insights processor has sentiment, entities and PII to find.

const FIRST_NAMES = ["Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Giulia", "Hiro", "Ines", "Jonas", "Keiko", "Liam", "Maya", "Nikolai", "Olga", "Priya", "Quentin", "Rosa", "Samir", "Tara"];
const LAST_NAMES = ["Andersen", "Baptiste", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hoffmann", "Ivanova", "Jensen", "Kowalski", "Lopez", "Martin", "Nakamura", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Weber"];
const DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"];
const CHANNELS = ["email", "chat", "app-review", "support-form", "social"] as const;
const PRODUCTS = ["wireless headphones", "coffee grinder", "running shoes", "smart thermostat", "backpack", "desk lamp"];

type Parts = { first: string; last: string; email: string; phone: string; order: string; product: string; url: string };

const TEMPLATES: Array<(p: Parts) => string> = [
  (p) => `Hi, this is ${p.first} ${p.last}. My order ${p.order} arrived damaged and the ${p.product} does not turn on. Please call me at ${p.phone} or email ${p.email}.`,
  (p) => `I love the new app update! Checkout is so much faster now. Thanks, ${p.first}.`,
  (p) => `Why was I charged twice for order ${p.order}? I need a refund today. Contact me at ${p.email}.`,
  (p) => `Can someone explain how to reset my password? My login is ${p.email} and the reset link never arrives.`,
  (p) => `Great service at your Berlin store yesterday, ${p.first} ${p.last} was really helpful with the ${p.product}.`,
  (p) => `Your page ${p.url} shows an error since this morning. I cannot track order ${p.order}.`,
  (p) => `The ${p.product} is okay, but delivery took three weeks. Not sure I will order again.`,
  (p) => `URGENT: I was locked out of my account after the update. Phone ${p.phone}, ask for ${p.first}.`,
  (p) => `Absolutely terrible experience. The ${p.product} broke after two days and nobody answers ${p.email}.`,
  (p) => `Could you change the delivery address for order ${p.order}? I moved last week. Best regards, ${p.first} ${p.last}`,
  (p) => `Thank you so much for the quick replacement of my ${p.product}! Five stars.`,
  (p) => `Is the ${p.product} compatible with the older model? Please reply to ${p.email} or ${p.phone}.`,
];

export interface CustomerMessage {
  customerId: string;
  channel: (typeof CHANNELS)[number];
  text: string;
  sentAt: string;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** One message; `random` is injectable so tests and benchmarks can make it deterministic. */
export function customerMessage(random: () => number = Math.random): CustomerMessage {
  const first = pick(FIRST_NAMES, random);
  const last = pick(LAST_NAMES, random);
  const order = `ORD-${String(Math.floor(random() * 1_000_000)).padStart(6, "0")}`;
  const parts: Parts = {
    first,
    last,
    email: `${first}.${last}@${pick(DOMAINS, random)}`.toLowerCase(),
    // 555-01xx numbers are reserved for fiction.
    phone: `+1 555-01${String(Math.floor(random() * 100)).padStart(2, "0")}`,
    order,
    product: pick(PRODUCTS, random),
    url: `https://shop.example.com/orders/${order}`,
  };
  return {
    customerId: `cust-${first.toLowerCase()}-${last.toLowerCase()}`,
    channel: pick(CHANNELS, random),
    text: pick(TEMPLATES, random)(parts),
    sentAt: new Date().toISOString(),
  };
}
