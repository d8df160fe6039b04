package dev.iommulab.lab.cli;

import dev.iommulab.lab.machine.MachineConfigException;
import dev.iommulab.lab.report.CompareReporter;
import dev.iommulab.lab.report.CompareRow;
import dev.iommulab.lab.run.RunResult;
import dev.iommulab.lab.run.ScenarioRunner;
import dev.iommulab.lab.scenario.Scenario;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code iommu-lab compare FILE --vary KEY=V1,V2[,...]}: runs the file once per value, each applied like
 * {@code --set KEY=Vi}, and prints one row of headline figures per run. Every variant is loaded and
 * checked before any runs, so invalid input (exit 2) runs nothing. A run that ends in an internal error is a row
 * with outcome {@code error} (its one line on stderr, {@link Crash}) and the other runs still go; the exit status is
 * that of the worst row: 3 when a run crashed, else 1 when one failed, else 0.
 */
@Command(name = "compare", description = "Run a scenario once per value of a key and compare the headline figures.")
final class Compare implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "scenario file (YAML)")
    Path file;

    @Option(names = "--vary", required = true, paramLabel = "KEY=V1,V2[,...]",
            description = "the dotted key to vary and its values, each applied like --set KEY=Vi")
    String vary;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a scalar of the file in every run")
    List<String> sets = new ArrayList<>();

    @Option(names = "--format", defaultValue = "text", description = "text, json or csv (default: ${DEFAULT-VALUE})")
    Format format;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final IommuLab.Runs runs;

    Compare(IommuLab.Runs runs) {
        this.runs = runs;
    }

    enum Format { text, json, csv }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int eq = vary.indexOf('=');
        List<String> values = eq < 0 ? List.of() : Arrays.asList(vary.substring(eq + 1).split(",", -1));
        if (eq <= 0 || values.stream().anyMatch(String::isBlank)) {
            err.println("--vary: expected KEY=V1,V2[,...] with non-empty values, got '" + vary + "'");
            return IommuLab.EXIT_INVALID;
        }
        String key = vary.substring(0, eq);
        List<Scenario> scenarios = new ArrayList<>();
        List<List<String>> variants = new ArrayList<>();
        for (String value : values) {
            List<String> overrides = new ArrayList<>(sets);
            overrides.add(key + "=" + value);
            Scenario scenario = IommuLab.load(file, overrides, err);
            if (scenario == null) {
                return IommuLab.EXIT_INVALID;
            }
            try {
                ScenarioRunner.check(scenario);
            } catch (MachineConfigException e) {
                return IommuLab.invalid(file, overrides, e, err);
            }
            scenarios.add(scenario);
            variants.add(overrides);
        }
        List<CompareRow> rows = new ArrayList<>();
        int status = 0;
        for (int i = 0; i < values.size(); i++) {
            Scenario scenario = scenarios.get(i);
            try {
                RunResult result = runs.run(scenario, ScenarioRunner.DEFAULT_JOURNEY_LIMIT);
                status = Math.max(status, result.passed() ? 0 : 1);
                rows.add(CompareRow.of(values.get(i), result));
            } catch (MachineConfigException e) {
                return IommuLab.invalid(file, variants.get(i), e, err);
            } catch (RuntimeException | Error e) {
                err.println(Crash.line(e, key + "=" + values.get(i)));
                status = Crash.EXIT;
                rows.add(new CompareRow(values.get(i), scenario.name(), scenario.seed(), "error", Map.of(), List.of(),
                        Map.of(), null, null, 0, List.of(), CompareRow.VirtioEvents.NONE));
            }
        }
        CompareReporter reporter = new CompareReporter(file.toString(), key);
        out.print(switch (format) {
            case text -> reporter.text(rows);
            case csv -> reporter.csv(rows);
            case json -> reporter.json(rows) + System.lineSeparator();
        });
        out.flush();
        return status;
    }
}
