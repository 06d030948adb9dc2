package dev.sparklinear.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sparklinear.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SafetensorsFileTest {
  private static final String SOURCE = "conf/model.safetensors";
  private final SafetensorsFile file = SafetensorsReader.read(Fixtures.bytes("model_f32.safetensors"), SOURCE);

  @Test
  void withPrefixStripsThePrefixAndKeepsOnlyMatchingKeys() {
    SafetensorsFile fc = file.withPrefix("fc.");

    assertThat(fc.tensors().keySet()).containsExactly("bias", "weight");
    assertThat(fc.tensor("weight")).isSameAs(file.tensor("fc.weight"));
    assertThat(fc.tensor("bias")).isSameAs(file.tensor("fc.bias"));
    assertThat(fc.metadata()).isEqualTo(file.metadata());
    assertThat(fc.source()).isEqualTo(SOURCE);
  }

  @Test
  void emptyPrefixSelectsEverything() {
    assertThat(file.withPrefix("").tensors()).isEqualTo(file.tensors());
  }

  @Test
  void prefixMatchingNothingListsWhatTheFileHas() {
    assertThatThrownBy(() -> file.withPrefix("classifier."))
        .isInstanceOf(WeightFileException.class)
        .hasMessage("Cannot read weights from conf/model.safetensors: no tensor name starts with 'classifier.';"
            + " the file has ['encoder.bias', 'encoder.weight', 'fc.bias', 'fc.weight']. Use the prefix of one of"
            + " these names (for 'fc.weight' it is 'fc.').");
  }

  @Test
  void missingTensorListsWhatTheFileHas() {
    assertThatThrownBy(() -> file.tensor("fc.weights"))
        .isInstanceOf(WeightFileException.class)
        .hasMessageContaining("no tensor 'fc.weights'; the file has ['encoder.bias', 'encoder.weight', 'fc.bias',"
            + " 'fc.weight']");
  }

  @Test
  void tensorsAndMetadataCannotBeModified() {
    assertThatThrownBy(() -> file.tensors().put("x", Tensor.of(1f))).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> file.metadata().clear()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void toStringNamesTheSourceAndEachTensorWithItsShape() {
    assertThat(file.withPrefix("fc.").toString()).isEqualTo("SafetensorsFile(conf/model.safetensors, bias [3], weight [3, 4])");
  }
}
