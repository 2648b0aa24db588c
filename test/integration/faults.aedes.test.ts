// The process fault tests (test/helpers/faultTests.ts) over the orderer's embedded Aedes.
import { after } from 'node:test';
import { brokerCase } from '../helpers/brokers.js';
import { faultTests } from '../helpers/faultTests.js';
import { killAllProcesses } from '../helpers/processes.js';

after(killAllProcesses);
faultTests(brokerCase('aedes'));
