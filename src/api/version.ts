// API version negotiation: berthd advertises 1.44 and answers every version from 1.24 up.
export const API_VERSION = '1.44';
export const MIN_API_VERSION = '1.24';

export function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

export function versionAtLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}

export function versionBelow(v: string, max: string): boolean {
  return compareVersions(v, max) < 0;
}
