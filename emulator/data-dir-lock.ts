// One emulator per data directory: two processes appending to the same segment files would corrupt them.
// The lock is a file holding the owner's pid; a lock left by a process that no longer runs is taken over.
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DataDirError } from "./segment-store";

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class DataDirLock {
  private released = false;

  private constructor(private readonly file: string) {}

  static acquire(dir: string): DataDirLock {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "emulator.lock");
    // The pid is written to a private file first and then hard-linked into place, so the lock appears
    // atomically with its content: a rival never reads an empty lock and mistakes it for a stale one.
    const candidate = `${file}.${process.pid}`;
    writeFileSync(candidate, `${process.pid}\n`);
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(candidate, file);
          return new DataDirLock(file);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          const owner = Number(readFileSync(file, "utf8").trim());
          if (Number.isInteger(owner) && owner > 0 && processIsRunning(owner)) {
            const who = owner === process.pid ? "an emulator in this process that was not stopped" : `another emulator (process ${owner})`;
            throw new DataDirError(`The data directory ${path.dirname(dir)} is in use by ${who}; stop it or choose another data directory.`);
          }
          unlinkSync(file); // stale: its owner is gone
        }
      }
      throw new DataDirError(`Could not lock the data directory ${path.dirname(dir)}.`);
    } finally {
      unlinkSync(candidate);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      unlinkSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
