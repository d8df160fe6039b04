package dev.iommulab.lab.scenario;

import static dev.iommulab.lab.scenario.ScenarioFiles.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Invalid scenario files (structure, declarations, YAML): each problem at its exact line, column and key. */
class ScenarioLoaderErrorsTest extends ScenarioFileTest {

    @Test
    void load_unknownDeviceKey_reportsKeyLineAndColumn() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware:
                  model: vtd
                devices:
                  - name: acc0
                    bdf: "00:03.0"
                    profle: nic
                """);

        assertThat(problems).hasSize(1);
        ScenarioProblem p = problems.get(0);
        assertThat(at(p)).isEqualTo("7:5");
        assertThat(p.key()).isEqualTo("devices.0.profle");
        assertThat(p.message()).startsWith("unknown key 'profle'; allowed: name, bdf, profile, ats, pri,");
        assertThat(p.toString()).isEqualTo(dir.resolve("scenario.yaml") + ":7:5: devices.0.profle: " + p.message());
    }

    @Test
    void load_unknownTopLevelKey_reportsAtKey() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd }
                sed: 3
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("3:1", "sed"));
    }

    @Test
    void load_duplicateDeviceName_reportsSecondWithFirst() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd }
                devices:
                  - { name: acc0, bdf: "00:03.0" }
                  - { name: acc0, bdf: "00:04.0" }
                """);

        assertThat(problems).hasSize(1);
        assertThat(at(problems.get(0))).isEqualTo("5:13");
        assertThat(problems.get(0).key()).isEqualTo("devices.1.name");
        assertThat(problems.get(0).message())
                .isEqualTo("duplicate device name 'acc0' (first at " + dir.resolve("scenario.yaml") + ":4:13)");
    }

    @Test
    void load_duplicateBdfAndProcessName_reportsBoth() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd }
                devices:
                  - { name: acc0, bdf: "00:03.0" }
                  - { name: acc1, bdf: "00:03.0" }
                processes:
                  - name: app
                  - name: app
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key).containsExactly(
                tuple("5:24", "devices.1.bdf"),
                tuple("8:11", "processes.1.name"));
    }

    @Test
    void load_priWithoutAts_reportsAtPri() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd }
                devices:
                  - name: acc0
                    bdf: "00:03.0"
                    pri: true
                """);

        assertThat(problems).hasSize(1);
        assertThat(at(problems.get(0))).isEqualTo("6:10");
        assertThat(problems.get(0).key()).isEqualTo("devices.0.pri");
        assertThat(problems.get(0).message()).isEqualTo("pri: true requires ats: true");
    }

    @Test
    void load_missingRequiredKeys_reportsAtEnclosingMapping() {
        List<ScenarioProblem> problems = files.problems("""
                # no name
                hardware: { options: {} }
                devices:
                  - name: acc0
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key, ScenarioProblem::message)
                .containsExactly(
                        tuple("2:1", "name", "missing required key 'name'"),
                        tuple("2:11", "hardware.model", "missing required key 'model'"),
                        tuple("4:5", "devices.0.bdf", "missing required key 'bdf'"));
    }

    @Test
    void load_missingHardware_reportsAtRoot() {
        List<ScenarioProblem> problems = files.problems("name: t\n");

        assertThat(problems).extracting(ScenarioProblem::toString)
                .containsExactly(dir.resolve("scenario.yaml") + ":1:1: hardware: missing required key 'hardware'");
    }

    @Test
    void load_wrongTypes_reportsEach() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                seed: [1]
                hardware: { model: vtd }
                devices: acc0
                processes:
                  - name: app
                    vmas: { start: 0 }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::message).containsExactly(
                tuple("2:7", "expected a value, found a list"),
                tuple("4:10", "expected a list, found a scalar"),
                tuple("7:11", "expected a list, found a mapping"));
    }

    @Test
    void load_badBdf_reportsAtValue() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd }
                devices:
                  - { name: acc0, bdf: "00:20.0" }
                  - { name: acc1, bdf: 0:3.0 }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::message).containsExactly(
                tuple("4:24", "invalid bdf '00:20.0'; device number must be 00..1f"),
                tuple("5:24",
                        "invalid bdf '0:3.0'; expected bb:dd.f in hex, e.g. 00:03.0"));
    }

    @Test
    void load_badVmas_reportsAlignmentAndOverlap() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd }
                processes:
                  - name: app
                    vmas:
                      - { start: 0x1001, size: 4KiB }
                      - { start: 0x2000, size: 8KiB }
                      - { start: 0x3000, size: 4KiB, prot: rwrw }
                      - { start: 0x3000, size: 4KiB }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::message).containsExactly(
                tuple("6:18", "start 0x1001 is not page aligned (4096)"),
                tuple("8:44",
                        "invalid prot 'rwrw'; allowed: the letters r, w, x (e.g. r, rw, rwx) or none"),
                tuple("9:9", "vma overlaps vmas.1"));
    }

    @Test
    void load_severalProblems_reportsAllInFileOrder() {
        ScenarioException e = catchThrowableOfType(ScenarioException.class,
                () -> new ScenarioLoader().load(files.write("""
                        name: t
                        hardware: { model: vtd, colour: red }
                        seed: 0xZZ
                        devices:
                          - { name: acc0, bdf: "00:03.0", ats: maybe }
                        """)));

        assertThat(e.problems()).extracting(ScenarioFiles::at).containsExactly("2:25", "3:7", "5:40");
        assertThat(e.getMessage()).hasLineCount(3).contains(":2:25: hardware.colour: unknown key 'colour'");
    }

    @Test
    void load_duplicateYamlKey_reportsSecond() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd }
                name: u
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("3:1", "name"));
        assertThat(problems.get(0).message()).startsWith("duplicate key 'name' (first at ");
    }

    @Test
    void load_yamlSyntaxError_reportsParserLocation() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                 hardware: x
                """);

        assertThat(problems).hasSize(1);
        assertThat(at(problems.get(0))).isEqualTo("2:10");
        assertThat(problems.get(0).message()).startsWith("YAML syntax: mapping values are not allowed here");
    }

    @Test
    void load_emptyFileOrScalarRoot_isInvalid() {
        assertThat(files.problems("")).extracting(ScenarioProblem::message).containsExactly("the file is empty");
        assertThat(files.problems("just text\n")).extracting(ScenarioProblem::message)
                .containsExactly("a scenario file must be a mapping of keys, found a scalar");
    }

    @Test
    void load_missingFile_throwsNamingTheFile() {
        Path missing = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> new ScenarioLoader().load(missing))
                .isInstanceOf(ScenarioException.class)
                .hasMessage(missing + ": no such file");
    }

    @Test
    void load_aliasOrSecondDocument_isRejected() {
        List<ScenarioProblem> problems = files.problems("""
                name: &n t
                description: *n
                hardware: { model: vtd }
                ---
                name: u
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::message).containsExactly(
                tuple("2:14", "YAML aliases (*n) are not supported"),
                tuple("5:1", "only one YAML document is allowed"));
    }
}
