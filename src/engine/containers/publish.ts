// A container event as Docker shapes it: the container's labels, image and name as attributes.
import type { EventBus } from '../events/EventBus';
import type { ContainerRecord } from './Container';

export function publishContainerEvent(events: EventBus, c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  events.publish('container', action, c.Id, {
    ...c.Config.Labels, image: c.Config.Image, name: c.Name.slice(1), ...extra,
  });
}
