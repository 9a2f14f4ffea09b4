/** A temporary project folder with images and a config file, for the config and dry-run tests. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runQuorum, type QuorumOptions } from '../support/cli.js';
import { spread, tempDir, writeImages, type TempDir } from '../scoring/_support.js';

export interface Project extends TempDir {
  /** Writes `text` as a file of the project (a config file, usually). */
  write(name: string, text: string): Promise<string>;
  /** Runs `quorum` in the project folder. */
  quorum(args: readonly string[], options?: QuorumOptions): ReturnType<typeof runQuorum>;
}

export async function project(images = 3): Promise<Project> {
  const tmp = await tempDir();
  await writeImages(tmp.images, spread(images));
  return {
    ...tmp,
    write: async (name, text) => {
      await writeFile(join(tmp.dir, name), text);
      return join(tmp.dir, name);
    },
    quorum: (args, options = {}) => runQuorum(args, { cwd: tmp.dir, ...options }),
  };
}
