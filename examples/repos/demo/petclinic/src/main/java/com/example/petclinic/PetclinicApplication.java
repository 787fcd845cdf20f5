package com.example.petclinic;

import java.util.List;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

@SpringBootApplication
@RestController
public class PetclinicApplication {
  public static void main(String[] args) {
    SpringApplication.run(PetclinicApplication.class, args);
  }

  @GetMapping("/pets")
  List<String> pets() {
    return List.of("Leo", "Basil", "Rosy");
  }
}
