import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env.ts';

describe('sync worker settings', () => {
  it('uses the defaults', () => {
    const config = loadConfig({});
    expect(config.syncWorker).toEqual({ concurrency: 4, leaseHeartbeatSeconds: 3, leaseTimeoutSeconds: 15 });
  });

  it('reads every variable', () => {
    const config = loadConfig({ SYNC_WORKER_CONCURRENCY: '12', SYNC_LEASE_HEARTBEAT_SECONDS: '2', SYNC_LEASE_TIMEOUT_SECONDS: '6' });
    expect(config.syncWorker).toEqual({ concurrency: 12, leaseHeartbeatSeconds: 2, leaseTimeoutSeconds: 6 });
  });

  it('rejects a timeout under two heartbeats', () => {
    let error: unknown;
    try {
      loadConfig({ SYNC_LEASE_HEARTBEAT_SECONDS: '5', SYNC_LEASE_TIMEOUT_SECONDS: '9' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringContaining('SYNC_LEASE_TIMEOUT_SECONDS (9) must be at least twice SYNC_LEASE_HEARTBEAT_SECONDS (5)')]);
  });

  it('rejects a concurrency of zero', () => {
    expect(() => loadConfig({ SYNC_WORKER_CONCURRENCY: '0' })).toThrow(/SYNC_WORKER_CONCURRENCY/);
  });
});
