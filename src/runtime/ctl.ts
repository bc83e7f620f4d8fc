// conmon's ctl fifo (<dir>/ctl): one text message a write, "<event> <height> <width>\n".
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

export const WIN_RESIZE_EVENT = 1;

/** Sends one message; false when no conmon reads the fifo (gone, or not set up yet). */
export async function writeCtl(ctlPath: string, event: number, height: number, width: number): Promise<boolean> {
  let fh: fsp.FileHandle;
  try {
    // O_NONBLOCK: fails with ENXIO instead of hanging when conmon (the reader) is gone.
    fh = await fsp.open(ctlPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') return false;
    throw e;
  }
  try {
    await fh.write(`${event} ${height} ${width}\n`);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return false;
    throw e;
  } finally {
    await fh.close();
  }
}

/** A window size as conmon takes it: whole numbers in 0..65535. */
export function clampWinsize(n: number): number {
  return Math.max(0, Math.min(65535, Math.floor(n)));
}
