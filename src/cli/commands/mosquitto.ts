// `edgepeer mosquitto site`: a site's own Mosquitto bridged to the network's central one
// (src/network/mosquittoSite.ts; docs/operations.md, "Sites bridged to a central broker").
import type { Command } from 'commander';
import { writeMosquittoConfig } from '../../network/mosquittoConfig.js';
import { type MosquittoSite, MosquittoSiteError, recordMosquittoSite } from '../../network/mosquittoSite.js';
import { EXIT_USAGE, USAGE_ERROR_CODE } from './init.js';
import { portNumber } from '../options.js';

interface SiteCliOptions {
  network: string;
  boards: string;
  central: string;
  port: number;
  host?: string;
  json?: boolean;
}

export function registerMosquitto(program: Command): void {
  const mosquitto = program.command('mosquitto').description('configuration for external Mosquitto brokers');
  mosquitto
    .command('site <name>')
    .description("a site's Mosquitto for some of the boards, bridged to the central Mosquitto the orderer uses; writes NETWORK/mosquitto/sites/<name>/ and the central broker's files again")
    .requiredOption('--network <dir>', 'network directory written by `edgepeer init`')
    .requiredOption('--boards <ids>', 'the boards of the site, comma-separated (e.g. org1-board1,org1-board2)')
    .requiredOption('--central <host:port>', 'the central Mosquitto, as the site reaches it')
    .requiredOption('--port <n>', "the site broker's listener port", portNumber)
    .option('--host <addr>', "the site broker's listener address (default 0.0.0.0)")
    .option('--json', 'print the result as one JSON object')
    .action(async (name: string, o: SiteCliOptions, cmd: Command) => {
      const boards = o.boards.split(',').map((b) => b.trim()).filter((b) => b !== '');
      let site: MosquittoSite;
      try {
        site = await recordMosquittoSite(o.network, { name, boards, central: o.central, port: o.port, ...(o.host !== undefined ? { host: o.host } : {}) });
      } catch (err) {
        if (err instanceof MosquittoSiteError) cmd.error(`error: ${err.message}`, { exitCode: EXIT_USAGE, code: USAGE_ERROR_CODE });
        throw err;
      }
      const central = await writeMosquittoConfig(o.network);
      const siteConfig = `${central.dir}/sites/${site.name}/mosquitto.conf`;
      const out = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      out(o.json === true
        ? `${JSON.stringify({ site: site.name, boards: site.boards, siteConfig, centralConfig: central.config })}\n`
        : `site '${site.name}' (${site.boards.join(', ')}): mosquitto -c ${siteConfig}\n`
          + `central broker (its password file and ACL now let the bridge in): mosquitto -c ${central.config}, or SIGHUP a running one\n`);
    });
}
