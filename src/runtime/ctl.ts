// A conmon session's terminal size: conmon reads "<height> <width>\n" messages from the fifo
// <dir>/winsz and sets its pty's size. (Its ctl fifo, "1 <height> <width>\n", only forwards
// resizes there.) conmon before 2.2.0 reads each fifo up to 199 bytes at a time and, for every
// line in one read, applies the first one (ctrl.c, read_from_ctrl_buffer): two resizes that
// meet in the fifo, as the CLI's attach sends them (h+1 x w+1, then h x w) when conmon is slow
// to be scheduled, leave the first size. Each message is padded to those 199 bytes, so a read
// takes exactly one (a write of it is atomic: less than PIPE_BUF), and it is written to winsz
// itself: conmon's own forwarding from ctl would meet there again, unpadded.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

/** conmon's read size for its ctl and winsz fifos (CTLBUFSZ - 1). */
const CONMON_READ_SIZE = 199;

/** One winsz message, padded to conmon's read size (sscanf stops at the width). */
export function winsizeMessage(height: number, width: number): string {
  return `${clampWinsize(height)} ${clampWinsize(width)}`.padEnd(CONMON_READ_SIZE - 1) + '\n';
}

/** Sets the size of the session's terminal; false when no conmon reads the fifo (gone, or not set up yet). */
export async function writeWinsize(dir: string, height: number, width: number): Promise<boolean> {
  let fh: fsp.FileHandle;
  try {
    // O_NONBLOCK: fails with ENXIO instead of hanging when conmon (the reader) is gone.
    fh = await fsp.open(`${dir}/winsz`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') return false;
    throw e;
  }
  try {
    await fh.write(winsizeMessage(height, width));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return false;
    throw e;
  } finally {
    await fh.close();
  }
}

/** A window size as conmon takes it: whole numbers in 0..65535. */
function clampWinsize(n: number): number {
  return Math.max(0, Math.min(65535, Math.floor(n)));
}
