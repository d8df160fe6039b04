package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import com.google.inject.AbstractModule;
import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.run.RunResult;
import dev.iommulab.lab.run.ScenarioRunner;
import dev.iommulab.lab.scenario.ScenarioLoader;
import org.junit.jupiter.api.Test;

/**
 * Every layer is a Guice module, so one can be swapped for a mock while the rest runs (DESIGN.md §1).
 */
class LayerOverrideTest {

    /**
     * With io-pgfault replaced by a mock that accepts every report, the hardware, driver and SVA layers
     * still run: the VT-d PRQ thread reports both page requests with the fields of the descriptor, and
     * since nobody answers, the DMA stays pending.
     */
    @Test
    void boot_iopfLayerMocked_restOfStackStillReportsFaults() throws Exception {
        Iopf iopf = mock(Iopf.class);
        when(iopf.reportDeviceFault(any(), any())).thenReturn(0);

        ScenarioRunner runner = new ScenarioRunner();
        RunResult r = runner.run(new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml")),
                new AbstractModule() {
                    @Override
                    protected void configure() {
                        bind(Iopf.class).toInstance(iopf);
                    }
                });

        Device acc0 = runner.machine().device("acc0");
        verify(iopf, times(1)).reportDeviceFault(org.mockito.ArgumentMatchers.eq(acc0), argThat((IommuFault f) ->
                f.lastPage() && f.pasidValid() && f.pasid() == 1 && f.grpid() == 0 && f.addr() == 0x7f0000000000L
                        && f.hasPerm(IommuFault.PERM_WRITE)));
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("pending");
        assertThat(r.pageResponses()).isEmpty();
        assertThat(r.outcome()).isEqualTo("fail");
    }
}
