// The volume store: named directories under the data root that outlive containers. The store
// keeps records and data directories; the rules (drivers, use by containers, filters) are the
// volume service's (VolumeService.ts).

/** A volume's record, Docker's fields. */
export interface VolumeRecord {
  Name: string;
  /** Only "local". */
  Driver: string;
  /** RFC 3339, seconds. */
  CreatedAt: string;
  Labels: Record<string, string> | null;
  /** The local driver's options (type, device, o): what `mount -t type -o o device` would take. */
  Options: Record<string, string> | null;
}

/** Docker marks the volumes it makes for `-v /path` and an image's VOLUME with this label. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export function isAnonymous(v: VolumeRecord): boolean {
  return !!v.Labels && Object.prototype.hasOwnProperty.call(v.Labels, ANONYMOUS_LABEL);
}

export interface VolumeStore {
  /**
   * Makes the record and its empty data directory, both at once or neither (a crash in
   * between leaves nothing that the next reconcile keeps). A Conflict if the name is taken.
   */
  create(rec: VolumeRecord): Promise<VolumeRecord>;
  get(name: string): VolumeRecord | undefined;
  list(): VolumeRecord[];
  /** The directory that containers mount (and that a driver's mount covers). */
  dataPath(name: string): string;
  /**
   * A path beside the data directory, on its filesystem, for filling a volume whole before it
   * is renamed over the empty data directory; whatever a crash leaves there is swept at reconcile.
   */
  stagingPath(name: string): string;
  /**
   * Removes the record and its data; NotFound if there is none. Refused (System) while
   * something is mounted on the data directory: a removal never reaches through a mount.
   */
  remove(name: string): Promise<void>;
  /** At start: loads the records and finishes or drops what a crash left half-done. */
  reconcile(): Promise<void>;
}
