// What every engine operation needs: the API client (the engine's only way to berthd) and
// where its progress and warnings go.
import type { Client } from '../../client/client';
import type { Progress } from '../progress/progress';

export interface EngineContext {
  client: Client;
  progress: Progress;
  /** a warning as compose logs it (`WARN[0000] ...`), above the progress lines */
  warn(message: string): void;
}

/** compose v2 logs warnings through logrus: `WARN[0000] text`. */
export function logrusWarning(message: string): string {
  return `WARN[0000] ${message}`;
}
