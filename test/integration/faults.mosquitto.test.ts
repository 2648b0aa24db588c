// The process fault tests (test/helpers/faultTests.ts) over Mosquitto.
import { after } from 'node:test';
import { brokerCase } from '../helpers/brokers.js';
import { faultTests } from '../helpers/faultTests.js';
import { killAllProcesses } from '../helpers/processes.js';

after(killAllProcesses);
faultTests(brokerCase('mosquitto'));
