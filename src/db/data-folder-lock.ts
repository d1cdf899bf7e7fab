import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The file that keeps a second process out of an embedded database. PGlite 0.5.17 opens a folder
 * that another process has open without checking PostgreSQL's postmaster.pid, and such a second
 * process aborted with a WebAssembly RuntimeError while the first wrote. So each process records
 * its pid in this file.
 */
const LOCK_FILE_NAME = 'seatwise.lock';

/** The data folder is open in another live process. */
export class DataFolderInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number | null,
  ) {
    super(
      `The data folder ${dataDir} is in use by another Seatwise process (pid ${pid ?? 'unknown'}). The embedded database serves one process at a time: ` +
        'stop that process and run the command again, or set DATABASE_URL to run several processes against PostgreSQL.',
    );
    this.name = 'DataFolderInUseError';
  }
}

/** Open count of each lock file this process has taken. The file is removed when the count returns to 0. */
const heldLocks = new Map<string, number>();

/**
 * Takes the lock of `dataDir` for this process and returns the function that releases it. A lock
 * file whose process is gone, or that carries this process's pid without this process holding it
 * (a restarted container reuses pids), is taken over.
 *
 * @throws DataFolderInUseError when another live process has the folder open.
 */
export function acquireDataFolderLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE_NAME);
  const heldCount = heldLocks.get(path) ?? 0;
  if (heldCount > 0) {
    heldLocks.set(path, heldCount + 1);
    return () => releaseDataFolderLock(path);
  }

  // Two attempts: the second runs after a stale file was removed, and loses only to a process that
  // took the lock in between.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (tryCreateLockFile(path)) {
      heldLocks.set(path, 1);
      return () => releaseDataFolderLock(path);
    }
    const ownerPid = readLockOwner(path);
    if (ownerPid !== null && ownerPid !== process.pid && isProcessAlive(ownerPid)) throw new DataFolderInUseError(dataDir, ownerPid);
    removeLockFile(path);
  }
  throw new DataFolderInUseError(dataDir, readLockOwner(path));
}

function releaseDataFolderLock(path: string): void {
  const heldCount = heldLocks.get(path) ?? 0;
  if (heldCount > 1) {
    heldLocks.set(path, heldCount - 1);
    return;
  }
  heldLocks.delete(path);
  if (readLockOwner(path) === process.pid) removeLockFile(path);
}

/** Creates the lock file with this process's pid, or returns false when the file already exists. */
function tryCreateLockFile(path: string): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(descriptor, `${process.pid}\n`);
  } finally {
    closeSync(descriptor);
  }
  return true;
}

/** Returns the pid in the lock file, or null when the file is missing or contains no pid. */
function readLockOwner(path: string): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function removeLockFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Checks with signal 0, which tests for the process without signalling it. EPERM means it exists. */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
