// Test-only crash points: the places where a kill -9 leaves the stores between two writes.
// With BERTH_CRASH_AT=<name> in berthd's environment the process SIGKILLs itself on reaching
// that point, so a test can check what the next start makes of it; otherwise a call is an
// empty function. The names, where they sit, and what a crash there leaves:
//
//   container.create.after-layer   create: writable layer made; the record (written beside it) or not
//   container.create.after-record  create: record written; the writable layer (made beside it) or not
//   container.remove.after-state   remove: "removing" written, nothing torn down yet (after an
//                                  exit with a removal: the exit's teardown done)
//   container.exit.after-removing  rm -f of a running container: its exit seen, "removing" written,
//                                  the exit's teardown (runtime delete, unmount) under way
//   container.start.after-save     start: the running record written; the runtime's start done or not
//   container.start.after-start    start: the runtime's start done; the running record written or not
//   container.remove.after-rename  ContainerStore.delete: directory renamed to .rm-<id>, not deleted
//   layer.create.after-blob        LayerStore: compressed blob committed, layer still in tmp/
//   layer.create.before-rename     LayerStore: layer's record written in tmp/, not renamed into place
//   layer.create.after-rename      LayerStore: layer renamed into place and layers/ fsynced, no image yet
//   layer.mount.after-create       LayerStore.createMount: writable layer made and mounts/ fsynced
//   image.load.after-staging       load: archive read, its layers extracted in layers/tmp, none made
//   image.load.after-layer         load: a layer made (each one), the image's others not yet
//   image.load.before-record       load: every layer made, no image record
//   image.import.after-layer       import: the layer made, no image record
//   image.add.after-config         ImageStore.add: config blob written, no image record
//   image.tag.after-refs           ImageStore.setRef: references written, image's tag time not
//   volume.create.before-rename    LocalVolumeStore.create: record and _data made in .<name>.<hex>.creating
//   volume.remove.after-rename     LocalVolumeStore.remove: directory renamed to .<name>.<hex>.removing, not deleted
//   volume.copyup.before-rename    copy-up: the image's content copied whole into <volume>/.copyup, _data still empty
//   image.pull.after-layer         pull: a layer made from its downloaded blob (each one), no image record yet
//   archive.after-mount            docker cp/export of a stopped container: its layer mounted for the copy

const target = process.env.BERTH_CRASH_AT || undefined;

export const crashPoint: (name: string) => void = target === undefined
  ? () => undefined
  : (name) => {
    if (name !== target) return;
    process.stderr.write(`crash point ${name}: SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
  };

// Test-only pause points, the same way: with BERTH_PAUSE_AT=<name>:<ms> berthd waits that long on
// reaching the point, so a test can act while the daemon is between two steps; otherwise a call
// is a resolved promise.
//
//   container.restore.after-match  daemon start: records loaded and running tasks re-adopted,
//                                  attachments not yet reconciled (the API must hold requests)
//   container.start.before-save    start: before the running record's write (which goes beside
//                                  the runtime's start), so a crash point can come between
//   container.create.before-layer  create: before the writable layer (made beside the record)
//   container.create.before-record create: before the record's write (beside the writable layer)
//   layer.mount.before-meta        LayerStore.createMount: the layer's directories made, no meta.json

const pause = /^([a-z.-]+):(\d+)$/.exec(process.env.BERTH_PAUSE_AT ?? '');

export function pausePoint(name: string): Promise<void> {
  if (!pause || pause[1] !== name) return Promise.resolve();
  process.stderr.write(`pause point ${name}: ${pause[2]} ms\n`);
  return new Promise((r) => setTimeout(r, Number(pause[2])));
}
