// The y/N confirmation docker asks before pruning.
import { Cli } from '../cli';

export function confirm(cli: Cli, warning: string): Promise<boolean> {
  cli.print(`${warning}\nAre you sure you want to continue? [y/N] `);
  return new Promise((resolve) => {
    const stdin = process.stdin;
    let buf = '';
    const done = (ans: boolean) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve(ans);
    };
    const onData = (c: Buffer) => {
      buf += c.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) done(/^\s*y(es)?\s*$/i.test(buf.slice(0, i)));
    };
    const onEnd = () => {
      if (!buf) cli.println('');
      done(/^\s*y(es)?\s*$/i.test(buf));
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}
