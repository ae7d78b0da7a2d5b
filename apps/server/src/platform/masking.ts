import type { Role } from '@pingan/contracts';

/** Personal fields are masked on screen by default (PRODUCT.md: 138****1234). */
export function maskPhone(phone: string | null | undefined): string | null {
  if (!phone) return phone ?? null;
  const digits = phone.replace(/\s|-/g, '');
  if (digits.length < 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}

/** 张三丰 → 张**; Zhang San → Z*** S**. */
export function maskName(name: string | null | undefined): string | null {
  if (!name) return name ?? null;
  if (/^[\u3400-\u9fff·]+$/.test(name)) return name[0] + '*'.repeat(Math.max(1, name.length - 1));
  return name
    .split(/\s+/)
    .map((w) => (w ? w[0] + '*'.repeat(Math.max(1, w.length - 1)) : w))
    .join(' ');
}

/** 370523199001011234 → 370***********1234. */
export function maskIdNumber(id: string | null | undefined): string | null {
  if (!id) return id ?? null;
  if (id.length <= 7) return '*'.repeat(id.length);
  return `${id.slice(0, 3)}${'*'.repeat(id.length - 7)}${id.slice(-4)}`;
}

/** Roles whose work needs full personal data when they ask for it explicitly (and are audited). */
export const revealRoles = {
  callerPhone: ['dispatcher', 'station_leader', 'community_officer', 'auxiliary'],
  partyDetails: ['station_leader', 'community_officer', 'mediator'],
  staffPhone: ['admin', 'station_leader'],
} as const satisfies Record<string, readonly Role[]>;

export type RevealKind = keyof typeof revealRoles;

export function mayReveal(role: Role, kind: RevealKind): boolean {
  return (revealRoles[kind] as readonly Role[]).includes(role);
}
