// Docker's 8-byte multiplexing header for non-TTY streams: [type,0,0,0,len(be32)] + payload.
export const STREAM_TYPE = { stdin: 0, stdout: 1, stderr: 2 } as const;

export function frame(stream: 'stdout' | 'stderr' | 'stdin', payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = STREAM_TYPE[stream];
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';
