// Profiles (15-profiles.md): a service with profiles is enabled when one of them is active ("*"
// activates all); a service named on the command line activates its own profiles.
import type { Service } from '../model';

export function profilesFromEnv(value: string | undefined): string[] {
  return (value ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
}

export function activeProfiles(services: Record<string, Service>, profiles: string[], targeted: string[]): Set<string> {
  const active = new Set(profiles);
  for (const name of targeted) for (const p of services[name]?.profiles ?? []) active.add(p);
  return active;
}

export function isEnabled(s: Service, active: Set<string>): boolean {
  if (!s.profiles || s.profiles.length === 0) return true;
  return active.has('*') || s.profiles.some((p) => active.has(p));
}

/** Services split into the enabled and the set-aside ones. */
export function applyProfiles(services: Record<string, Service>, profiles: string[], targeted: string[]): { enabled: Record<string, Service>; disabled: Record<string, Service> } {
  const active = activeProfiles(services, profiles, targeted);
  const enabled: Record<string, Service> = {};
  const disabled: Record<string, Service> = {};
  for (const [name, s] of Object.entries(services)) (isEnabled(s, active) ? enabled : disabled)[name] = s;
  return { enabled, disabled };
}
