import { measureFleet, fleetScenarios } from "./fleet";
const id = process.argv[2] ?? "fleet4-together";
const scenario = fleetScenarios().find((s) => s.id === id)!;
measureFleet(scenario, Number(process.argv[3] ?? 20), 120, (l) => console.error(l)).then((r) => {
  console.log(JSON.stringify({ ...r, latency: undefined }, null, 1));
});
