#!/usr/bin/env node
// Loads the TypeScript entry point through tsx, so the command runs from a clone without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
