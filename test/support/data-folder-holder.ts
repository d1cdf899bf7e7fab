/**
 * Opens the embedded database in the data folder given as the first argument, prints "open", and
 * keeps it open until standard input ends, so a test can try the folder from a second process.
 */
import { openDatabase } from '../../src/db/database.ts';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('Pass the data folder as the first argument.');

const database = await openDatabase({ kind: 'pglite', dataDir });
process.stdout.write('open\n');
process.stdin.resume();
await new Promise((resolve) => process.stdin.on('end', resolve));
await database.close();
