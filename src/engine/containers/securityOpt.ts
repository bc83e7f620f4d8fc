// --security-opt values as dockerd reads them.

/** Split at the first '=', or at the first ':' (the deprecated form). */
export function splitSecurityOpt(opt: string): [string, string | undefined] {
  const eq = opt.indexOf('=');
  const at = eq >= 0 ? eq : opt.indexOf(':');
  return at < 0 ? [opt, undefined] : [opt.slice(0, at), opt.slice(at + 1)];
}

/** Go's strconv.ParseBool, which dockerd uses for no-new-privileges= and writable-cgroups=. */
export function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}
