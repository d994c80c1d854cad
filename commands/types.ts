import type { Command } from 'commander';
import type { AddUserOptions, InitOptions, RemoveUserOptions, StatusOptions, SyncOptions, UninstallOptions } from '../src/operations.js';
import type { ServiceOptions } from '../src/service.js';
import type { WatchOptions } from '../src/watch.js';
import type { BackupsListOptions, BackupsRestoreOptions } from '../src/backups.js';
import type { DoctorOptions } from '../src/doctor.js';
import type { LoginOptions } from '../src/login.js';

/** What the commands call. The real one imports the core lazily; tests record the parsed options instead. */
export interface Runner {
  init(o: InitOptions): Promise<number>;
  addUser(o: AddUserOptions): Promise<number>;
  status(o: StatusOptions): Promise<number>;
  sync(o: SyncOptions): Promise<number>;
  version(): Promise<number>;
  watch(o: WatchOptions): Promise<number>;
  installService(o: ServiceOptions): Promise<number>;
  installCron(o: ServiceOptions & { heal: boolean }): Promise<number>;
  removeUser(o: RemoveUserOptions): Promise<number>;
  uninstall(o: UninstallOptions): Promise<number>;
  completion(shell: string, program: Command): Promise<number>;
  backupsList(o: BackupsListOptions): Promise<number>;
  backupsRestore(o: BackupsRestoreOptions): Promise<number>;
  doctor(o: DoctorOptions): Promise<number>;
  login(o: LoginOptions): Promise<number>;
}

export type Register = (parent: Command, runner: Runner, done: (code: number) => void) => void;

export const collect = (v: string, prev: string[]) => [...prev, v];
