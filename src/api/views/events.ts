// The JSON shape of one `GET /events` message for the request's API version.
import type { BerthEvent } from '../../engine/events/EventBus';
import { versionBelow } from '../version';

/** Before 1.52 container and image events still carry the deprecated status/id/from, first. */
export function eventView(apiVersion: string, ev: BerthEvent): Record<string, unknown> {
  if (!versionBelow(apiVersion, '1.52') || (ev.Type !== 'container' && ev.Type !== 'image')) return { ...ev };
  const image = ev.Actor.Attributes.image;
  return { status: ev.Action, id: ev.Actor.ID, ...(image ? { from: image } : {}), ...ev };
}
