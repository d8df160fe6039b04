package dev.iommulab.lab.scenario;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A test that writes scenario files: a fresh directory per test and {@link ScenarioFiles} over it. */
abstract class ScenarioFileTest {

    @TempDir
    Path dir;
    ScenarioFiles files;

    @BeforeEach
    final void scenarioFiles() {
        files = new ScenarioFiles(dir);
    }
}
